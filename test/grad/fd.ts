/**
 * Gradient checking: a graph's analytic gradients (autodiff.ts, run by onnxruntime) against central
 * finite differences of the same graph's loss.
 */
import { ort } from '../../src/onnx/runtime.js';
import { addGradients } from '../../src/grad/autodiff.js';
import { inferShapes, numelOf } from '../../src/grad/shapes.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { DataType } from '../../src/onnx/model.js';
import { mulberry32 } from '../../src/util/prng.js';
import { assertClose } from '../clip-model/close.js';

export type Precision = 'double' | 'float';

export interface InputSpec {
  readonly dims: readonly number[];
  /** Values in [0.5, 1.5] instead of [-1, 1] (logarithms, square roots, divisors). */
  readonly positive?: boolean;
  /** Fixed values instead of random ones. */
  readonly values?: readonly number[];
  /** Not differentiated (e.g. a mask). */
  readonly constant?: boolean;
}

export interface GradCase {
  readonly name: string;
  readonly precision: Precision;
  readonly inputs: readonly InputSpec[];
  /** Adds the op(s) under test; returns the value(s) the loss Σ y·R is taken over. */
  readonly build: (g: GraphBuilder, inputs: string[], type: typeof DataType.FLOAT | typeof DataType.DOUBLE) => string | string[];
}

/**
 * Tolerances: in double, h = 1e-5 leaves truncation and rounding errors near 1e-10, so 1e-7 is tight.
 * In float32 (ops whose CPU kernels have no double version: Conv, ConvTranspose, Erf) h = 1e-2 and the
 * loss's rounding (~1e-7 of its size) divided by 2h gives ~1e-5; 3e-3 allows for the O(h²) term.
 */
export const FD = {
  double: { h: 1e-5, rtol: 1e-7, atol: 1e-7 },
  float: { h: 1e-2, rtol: 3e-3, atol: 3e-3 },
} as const;

export async function checkGradients(c: GradCase, seed = 1): Promise<void> {
  const type = c.precision === 'double' ? DataType.DOUBLE : DataType.FLOAT;
  const g = new GraphBuilder(c.name);
  const names = c.inputs.map((s, i) => g.input(`x${i}`, type, s.dims));
  const built = c.build(g, names, type);
  const ys = Array.isArray(built) ? built : [built];
  const meta = inferShapes(g.view());
  const next = mulberry32(seed);
  let loss = '';
  for (const y of ys) {
    const dims = meta.get(y)!.dims;
    const r = Array.from({ length: numelOf(dims) }, () => next() * 2 - 1);
    const term = g.node('ReduceSum', [g.node('Mul', [y, g.constant('r', type, r, dims)])], { keepdims: 0 });
    loss = loss ? g.node('Add', [loss, term]) : term;
  }
  const wrt = names.filter((_, i) => !c.inputs[i]!.constant);
  const { grads } = addGradients(g, { loss, wrt });
  g.output(loss, 'loss', type, []);
  wrt.forEach((w, i) => g.output(grads.get(w)!, `grad${i}`, type, c.inputs[names.indexOf(w)]!.dims));
  const session = await ort.InferenceSession.create(g.build(), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const xs = c.inputs.map((s) => {
      const v = s.values ?? Array.from({ length: numelOf(s.dims) }, () => (s.positive ? 0.5 + next() : next() * 2 - 1));
      return c.precision === 'double' ? Float64Array.from(v) : Float32Array.from(v);
    });
    const feeds = () => Object.fromEntries(names.map((n, i) => [n, new ort.Tensor(c.precision === 'double' ? 'float64' : 'float32', xs[i]!, [...c.inputs[i]!.dims])]));
    const out = await session.run(feeds());
    const lossAt = async () => Number((await session.run(feeds(), ['loss'])).loss!.data[0]);
    const { h, rtol, atol } = FD[c.precision];
    for (const [k, w] of wrt.entries()) {
      const i = names.indexOf(w);
      const x = xs[i]!;
      const fd = new Float64Array(x.length);
      for (let j = 0; j < x.length; j++) {
        const v = x[j]!;
        x[j] = v + h;
        const up = await lossAt();
        x[j] = v - h;
        const down = await lossAt();
        x[j] = v;
        fd[j] = (up - down) / (2 * h);
      }
      assertClose(out[`grad${k}`]!.data as Float64Array, fd, `${c.name}: d loss / d input ${i}`, rtol, atol);
    }
  } finally {
    await session.release();
  }
}
