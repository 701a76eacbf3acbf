/**
 * C − A·Bᵀ in float64 on onnxruntime (its multithreaded Gemm, ~15× the JavaScript loops of
 * linalg/dense.ts): RegMean's products R(Gᵢ)·Wᵢᵀ, accumulated, and the trailing updates of its Cholesky
 * solve (src/method/linalg/solve.ts).
 */
import { ort } from '../../onnx/runtime.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { DataType } from '../../onnx/model.js';
import { createSession, sessionOptions } from '../../models/clip/session.js';
import { jsRowGemm, type RowGemm } from '../linalg/solve.js';

/** Below this many multiply-adds a session run costs more than the loops (its threads wake, inputs are copied). */
const SMALL = 1 << 22;

function gemmModel(): Uint8Array {
  const g = new GraphBuilder('c_minus_a_bt');
  const T = DataType.DOUBLE;
  const inputs = [g.input('a', T, ['m', 'k']), g.input('b', T, ['n', 'k']), g.input('c', T, ['m', 'n'])];
  g.output(g.node('Gemm', inputs, { transB: 1, alpha: { f: -1 }, beta: { f: 1 } }), 'y', T, ['m', 'n']);
  return g.build();
}

export class OrtGemm {
  private constructor(private readonly session: ort.InferenceSession, private readonly small: number) {}

  /** `small`: products of fewer multiply-adds run in JavaScript (default 2²²). */
  static async create(opts: { executionProviders?: readonly string[]; small?: number } = {}): Promise<OrtGemm> {
    const session = await createSession(gemmModel(), sessionOptions(opts.executionProviders ? { executionProviders: opts.executionProviders } : {}));
    return new OrtGemm(session, opts.small ?? SMALL);
  }

  /** C − A·Bᵀ for A (m×k), B (n×k), C (m×n): the solver's RowGemm (small ones in JavaScript, in place). */
  readonly rowGemm: RowGemm = async (a, b, c, m, k, n) => {
    if (m * k * n < this.small) return jsRowGemm(a, b, c, m, k, n);
    const r = await this.session.run({ a: new ort.Tensor('float64', a, [m, k]), b: new ort.Tensor('float64', b, [n, k]), c: new ort.Tensor('float64', c, [m, n]) });
    return r.y!.data as Float64Array;
  };

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
