/**
 * Vector-Jacobian products, one rule per ONNX op the CLIP graphs and the losses emit: given the gradients
 * of a node's outputs, each rule adds ordinary ONNX ops (opset 17, all in onnxruntime's CPU provider) that
 * compute the gradients of its inputs. Shapes are static (see shapes.ts), so broadcasting is undone with
 * known axes and no shape arithmetic runs in the graph.
 */
import type { GraphBuilder } from '../onnx/graph-builder.js';
import type { DataTypeCode, NodeData } from '../onnx/model.js';
import { axisOf, intAttr, intsAttr, numelOf, reduceAxes, sliceParams, type ValueMeta } from './shapes.js';

export interface VjpContext {
  readonly g: GraphBuilder;
  meta(v: string): ValueMeta;
  /** Whether input `i` of the node being differentiated needs a gradient. */
  needs(i: number): boolean;
  /** A float constant of the given element type. */
  scalar(v: number, type: DataTypeCode): string;
  int64s(values: readonly number[], dims?: readonly number[]): string;
  /** Sums `dy` (shaped `from`) over the axes along which a value shaped `to` was broadcast. */
  reduceTo(dy: string, from: readonly number[], to: readonly number[]): string;
}

/** Gradients of the node's inputs, in input order (undefined: none, or not needed). */
export type Vjp = (n: NodeData, dys: readonly (string | undefined)[], c: VjpContext) => (string | undefined)[];

/** Ops whose outputs carry no gradient (integer, boolean or shape results). */
export const NON_DIFFERENTIABLE = new Set(['Shape', 'Equal', 'Greater', 'Less', 'ArgMax', 'ConstantOfShape']);

function only(dys: readonly (string | undefined)[]): string {
  const dy = dys[0];
  if (dy === undefined) throw new Error('internal: rule called without an output gradient');
  return dy;
}

const elementwise = (f: (n: NodeData, dy: string, c: VjpContext) => string): Vjp => (n, dys, c) => [f(n, only(dys), c)];

function swapLast(g: GraphBuilder, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return g.node('Transpose', [x], { perm });
}

function inversePerm(perm: readonly number[]): number[] {
  const inv: number[] = [];
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

const binary = (da: (n: NodeData, dy: string, c: VjpContext) => string | undefined, db: (n: NodeData, dy: string, c: VjpContext) => string | undefined): Vjp => (n, dys, c) => {
  const dy = only(dys);
  const y = c.meta(n.outputs[0]!).dims;
  const a = c.needs(0) ? da(n, dy, c) : undefined;
  const b = c.needs(1) ? db(n, dy, c) : undefined;
  return [a && c.reduceTo(a, y, c.meta(n.inputs[0]!).dims), b && c.reduceTo(b, y, c.meta(n.inputs[1]!).dims)];
};

/** Gradient of ReduceSum/ReduceMean: dy put back at the reduced axes and broadcast over them. */
function unreduce(n: NodeData, dy: string, c: VjpContext, mean: boolean): string {
  const x = c.meta(n.inputs[0]!);
  const axes = reduceAxes(n, c.meta);
  const all = !axes || axes.length === 0;
  const set = new Set((all ? x.dims.map((_, i) => i) : axes).map((a) => axisOf(a, x.dims.length)));
  const kept = x.dims.map((d, i) => (set.has(i) ? 1 : d));
  let g = c.g.node('Expand', [c.g.node('Reshape', [dy, c.int64s(kept)]), c.int64s(x.dims)]);
  if (mean) {
    let count = 1;
    for (const i of set) count *= x.dims[i]!;
    g = c.g.node('Mul', [g, c.scalar(1 / count, x.type)]);
  }
  return g;
}

/**
 * Gradient of Gather along `axis`: the output gradient scattered (summed where an index repeats) into
 * zeros shaped like the data, with the gathered axis moved first for ScatterND and back afterwards.
 */
function gatherGrad(n: NodeData, dy: string, c: VjpContext): string {
  const { g } = c;
  const x = c.meta(n.inputs[0]!);
  const idx = c.meta(n.inputs[1]!).dims;
  const r = x.dims.length;
  const a = axisOf(intAttr(n, 'axis', 0), r);
  const q = idx.length;
  // dy: x[:a] + idx + x[a+1:] → idx + x[:a] + x[a+1:]
  const perm = [...Array.from({ length: q }, (_, i) => a + i), ...Array.from({ length: a }, (_, i) => i), ...Array.from({ length: r - a - 1 }, (_, i) => a + q + i)];
  const rest = [...x.dims.slice(0, a), ...x.dims.slice(a + 1)];
  const updates = g.node('Reshape', [g.node('Transpose', [dy], { perm }), c.int64s([numelOf(idx), ...rest])]);
  const indices = g.node('Reshape', [n.inputs[1]!, c.int64s([numelOf(idx), 1])]);
  const zeros = g.node('Expand', [c.scalar(0, x.type), c.int64s([x.dims[a]!, ...rest])]);
  const scattered = g.node('ScatterND', [zeros, indices, updates], { reduction: 'add' });
  // [x[a], x[:a], x[a+1:]] → x
  const back = [...Array.from({ length: a }, (_, i) => i + 1), 0, ...Array.from({ length: r - a - 1 }, (_, i) => a + 1 + i)];
  return a === 0 ? scattered : g.node('Transpose', [scattered], { perm: back });
}

/** Gradient of GatherND with batch_dims 0 or 1: ScatterND with the batch index prepended to each index tuple. */
function gatherNdGrad(n: NodeData, dy: string, c: VjpContext): string {
  const { g } = c;
  const x = c.meta(n.inputs[0]!);
  const idx = c.meta(n.inputs[1]!).dims;
  const b = intAttr(n, 'batch_dims', 0);
  const zeros = g.node('Expand', [c.scalar(0, x.type), c.int64s(x.dims)]);
  if (b === 0) return g.node('ScatterND', [zeros, n.inputs[1]!, dy], { reduction: 'add' });
  if (b !== 1) throw new Error(`GatherND ${n.name}: batch_dims ${b} has no gradient rule (0 or 1)`);
  const batch = x.dims[0]!;
  const per = numelOf(idx.slice(1, -1));
  const rows: number[] = [];
  for (let i = 0; i < batch; i++) for (let j = 0; j < per; j++) rows.push(i);
  const batchIdx = c.int64s(rows, [...idx.slice(0, -1), 1]);
  const full = g.node('Concat', [batchIdx, n.inputs[1]!], { axis: -1 });
  return g.node('ScatterND', [zeros, full, dy], { reduction: 'add' });
}

/**
 * LayerNormalization over axes [axis, rank): mean and 1/std are recomputed (onnxruntime's optional
 * Mean/InvStdDev outputs are not requested by the forward graphs), then the textbook backward:
 * dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) with ĝ = dy · γ.
 */
const layerNormGrad: Vjp = (n, dys, c) => {
  const { g } = c;
  const dy = only(dys);
  const x = c.meta(n.inputs[0]!);
  const r = x.dims.length;
  const a = axisOf(intAttr(n, 'axis', -1), r);
  const axes = Array.from({ length: r - a }, (_, i) => a + i);
  const eps = (n.attributes?.epsilon as { f: number } | undefined)?.f ?? 1e-5;
  const mean = (v: string) => g.node('ReduceMean', [v], { axes, keepdims: 1 });
  const xc = g.node('Sub', [n.inputs[0]!, mean(n.inputs[0]!)]);
  const rstd = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [mean(g.node('Mul', [xc, xc])), c.scalar(Math.fround(eps), x.type)])])]);
  const xhat = g.node('Mul', [xc, rstd]);
  const gammaDims = x.dims.slice(a);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (c.needs(0)) {
    const gh = g.node('Mul', [dy, n.inputs[1]!]);
    const inner = g.node('Sub', [g.node('Sub', [gh, mean(gh)]), g.node('Mul', [xhat, mean(g.node('Mul', [gh, xhat]))])]);
    out[0] = g.node('Mul', [rstd, inner]);
  }
  if (c.needs(1)) out[1] = c.reduceTo(g.node('Mul', [dy, xhat]), x.dims, gammaDims);
  if (n.inputs[2] && c.needs(2)) out[2] = c.reduceTo(dy, x.dims, gammaDims);
  return out;
};

/** Y = alpha · op(A) · op(B) + beta · C. */
const gemmGrad: Vjp = (n, dys, c) => {
  const { g } = c;
  const dy = only(dys);
  const [A, B, C] = n.inputs as [string, string, string | undefined];
  const ta = intAttr(n, 'transA', 0);
  const tb = intAttr(n, 'transB', 0);
  const alpha = (n.attributes?.alpha as { f: number } | undefined)?.f ?? 1;
  const beta = (n.attributes?.beta as { f: number } | undefined)?.f ?? 1;
  const scaled = (v: string, s: number) => (s === 1 ? v : g.node('Mul', [v, c.scalar(s, c.meta(A).type)]));
  const gemm = (x: string, y: string, t1: number, t2: number) => g.node('Gemm', [x, y], { transA: t1, transB: t2 });
  let dA: string | undefined;
  let dB: string | undefined;
  if (c.needs(0)) dA = scaled(ta ? gemm(B, dy, tb, 1) : gemm(dy, B, 0, tb ? 0 : 1), alpha);
  if (c.needs(1)) dB = scaled(tb ? gemm(dy, A, 1, ta ? 1 : 0) : gemm(A, dy, ta ? 0 : 1, 0), alpha);
  const dC = C && c.needs(2) ? c.reduceTo(scaled(dy, beta), c.meta(n.outputs[0]!).dims, c.meta(C).dims) : undefined;
  return [dA, dB, dC];
};

/**
 * Conv for the patch embedding only: 2-D, one group, no padding or dilation, stride = kernel (patches do
 * not overlap). Then dW is a matrix product of dy with the image cut into patches, and dx a ConvTranspose.
 */
const convGrad: Vjp = (n, dys, c) => {
  const { g } = c;
  const dy = only(dys);
  const x = c.meta(n.inputs[0]!).dims;
  const w = c.meta(n.inputs[1]!).dims;
  const k = intsAttr(n, 'kernel_shape') ?? w.slice(2);
  const strides = intsAttr(n, 'strides') ?? [1, 1];
  const pads = intsAttr(n, 'pads') ?? [0, 0, 0, 0];
  const dil = intsAttr(n, 'dilations') ?? [1, 1];
  const ok = x.length === 4 && intAttr(n, 'group', 1) === 1 && pads.every((p) => p === 0) && dil.every((d) => d === 1)
    && strides[0] === k[0] && strides[1] === k[1] && x[2]! % k[0]! === 0 && x[3]! % k[1]! === 0 && !n.attributes?.auto_pad;
  if (!ok) throw new Error(`Conv ${n.name}: gradients are implemented for non-overlapping 2-D patches only (stride = kernel, no padding, one group)`);
  const [N, C, H, W] = x as [number, number, number, number];
  const [P, Q] = k as [number, number];
  const D = w[0]!;
  const gh = H / P;
  const gw = W / Q;
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (c.needs(0)) out[0] = g.node('ConvTranspose', [dy, n.inputs[1]!], { kernel_shape: k, strides });
  if (c.needs(1)) {
    // patches [C·P·Q, N·gh·gw] and dy [D, N·gh·gw]: dW = dy · patchesᵀ.
    const x6 = g.node('Reshape', [n.inputs[0]!, c.int64s([N, C, gh, P, gw, Q])]);
    const patches = g.node('Reshape', [g.node('Transpose', [x6], { perm: [1, 3, 5, 0, 2, 4] }), c.int64s([C * P * Q, N * gh * gw])]);
    const dyr = g.node('Reshape', [g.node('Transpose', [dy], { perm: [1, 0, 2, 3] }), c.int64s([D, N * gh * gw])]);
    out[1] = g.node('Reshape', [g.node('Gemm', [dyr, patches], { transB: 1 }), c.int64s(w)]);
  }
  if (n.inputs[2] && c.needs(2)) out[2] = g.node('ReduceSum', [dy, c.int64s([0, 2, 3])], { keepdims: 0 });
  return out;
};

export const VJP: Record<string, Vjp> = {
  Identity: (_n, dys) => [only(dys)],
  Cast: elementwise((n, dy, c) => c.g.node('Cast', [dy], { to: c.meta(n.inputs[0]!).type })),
  Neg: elementwise((_n, dy, c) => c.g.node('Neg', [dy])),
  Exp: elementwise((n, dy, c) => c.g.node('Mul', [dy, n.outputs[0]!])),
  Log: elementwise((n, dy, c) => c.g.node('Div', [dy, n.inputs[0]!])),
  Sqrt: elementwise((n, dy, c) => c.g.node('Div', [c.g.node('Mul', [dy, c.scalar(0.5, c.meta(n.inputs[0]!).type)]), n.outputs[0]!])),
  Reciprocal: elementwise((n, dy, c) => c.g.node('Neg', [c.g.node('Mul', [dy, c.g.node('Mul', [n.outputs[0]!, n.outputs[0]!])])])),
  Sigmoid: elementwise((n, dy, c) => {
    const y = n.outputs[0]!;
    return c.g.node('Mul', [dy, c.g.node('Mul', [y, c.g.node('Sub', [c.scalar(1, c.meta(y).type), y])])]);
  }),
  Tanh: elementwise((n, dy, c) => {
    const y = n.outputs[0]!;
    return c.g.node('Mul', [dy, c.g.node('Sub', [c.scalar(1, c.meta(y).type), c.g.node('Mul', [y, y])])]);
  }),
  Erf: elementwise((n, dy, c) => {
    const x = n.inputs[0]!;
    const t = c.meta(x).type;
    const e = c.g.node('Exp', [c.g.node('Neg', [c.g.node('Mul', [x, x])])]);
    return c.g.node('Mul', [dy, c.g.node('Mul', [e, c.scalar(2 / Math.sqrt(Math.PI), t)])]);
  }),
  Relu: elementwise((n, dy, c) => {
    const x = n.inputs[0]!;
    const zero = c.scalar(0, c.meta(x).type);
    return c.g.node('Where', [c.g.node('Greater', [x, zero]), dy, zero]);
  }),
  Softmax: elementwise((n, dy, c) => {
    const y = n.outputs[0]!;
    const ax = axisOf(intAttr(n, 'axis', -1), c.meta(y).dims.length);
    const dot = c.g.node('ReduceSum', [c.g.node('Mul', [dy, y]), c.int64s([ax])], { keepdims: 1 });
    return c.g.node('Mul', [y, c.g.node('Sub', [dy, dot])]);
  }),
  LogSoftmax: elementwise((n, dy, c) => {
    const y = n.outputs[0]!;
    const ax = axisOf(intAttr(n, 'axis', -1), c.meta(y).dims.length);
    const s = c.g.node('ReduceSum', [dy, c.int64s([ax])], { keepdims: 1 });
    return c.g.node('Sub', [dy, c.g.node('Mul', [c.g.node('Exp', [y]), s])]);
  }),
  Add: binary((_n, dy) => dy, (_n, dy) => dy),
  Sub: binary((_n, dy) => dy, (_n, dy, c) => c.g.node('Neg', [dy])),
  Mul: binary((n, dy, c) => c.g.node('Mul', [dy, n.inputs[1]!]), (n, dy, c) => c.g.node('Mul', [dy, n.inputs[0]!])),
  Div: binary(
    (n, dy, c) => c.g.node('Div', [dy, n.inputs[1]!]),
    (n, dy, c) => c.g.node('Neg', [c.g.node('Div', [c.g.node('Mul', [dy, n.outputs[0]!]), n.inputs[1]!])]),
  ),
  Sum: (n, dys, c) => {
    const dy = only(dys);
    const y = c.meta(n.outputs[0]!).dims;
    return n.inputs.map((x, i) => (c.needs(i) ? c.reduceTo(dy, y, c.meta(x).dims) : undefined));
  },
  Where: (n, dys, c) => {
    const dy = only(dys);
    const y = c.meta(n.outputs[0]!);
    const zero = c.scalar(0, y.type);
    const cond = n.inputs[0]!;
    return [
      undefined,
      c.needs(1) ? c.reduceTo(c.g.node('Where', [cond, dy, zero]), y.dims, c.meta(n.inputs[1]!).dims) : undefined,
      c.needs(2) ? c.reduceTo(c.g.node('Where', [cond, zero, dy]), y.dims, c.meta(n.inputs[2]!).dims) : undefined,
    ];
  },
  Reshape: elementwise((n, dy, c) => c.g.node('Reshape', [dy, c.int64s(c.meta(n.inputs[0]!).dims)])),
  Unsqueeze: elementwise((n, dy, c) => c.g.node('Reshape', [dy, c.int64s(c.meta(n.inputs[0]!).dims)])),
  Squeeze: elementwise((n, dy, c) => c.g.node('Reshape', [dy, c.int64s(c.meta(n.inputs[0]!).dims)])),
  Transpose: elementwise((n, dy, c) => {
    const r = c.meta(n.inputs[0]!).dims.length;
    const perm = intsAttr(n, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    return c.g.node('Transpose', [dy], { perm: inversePerm(perm) });
  }),
  Expand: elementwise((n, dy, c) => c.reduceTo(dy, c.meta(n.outputs[0]!).dims, c.meta(n.inputs[0]!).dims)),
  Concat: (n, dys, c) => {
    const dy = only(dys);
    if (n.inputs.length === 1) return [dy];
    const rank = c.meta(n.outputs[0]!).dims.length;
    const ax = axisOf(intAttr(n, 'axis', 0), rank);
    const sizes = n.inputs.map((x) => c.meta(x).dims[ax]!);
    const parts = c.g.nodeOutputs('Split', [dy, c.int64s(sizes)], { axis: ax }, { outputs: n.inputs.length });
    return parts.map((p, i) => (c.needs(i) ? p : undefined));
  },
  Split: (n, dys, c) => {
    const x = c.meta(n.inputs[0]!);
    const ax = axisOf(intAttr(n, 'axis', 0), x.dims.length);
    const parts = n.outputs.map((o, i) => dys[i] ?? c.g.node('Expand', [c.scalar(0, x.type), c.int64s(c.meta(o).dims)]));
    return [c.g.node('Concat', parts, { axis: ax })];
  },
  Slice: (n, dys, c) => {
    const dy = only(dys);
    const x = c.meta(n.inputs[0]!).dims;
    const p = sliceParams(n, c.meta);
    if (p.some((q) => q.step !== 1)) throw new Error(`Slice ${n.name}: gradients need step 1`);
    const pads = [...p.map((q) => q.start), ...p.map((q, i) => x[i]! - q.start - q.count)];
    return [c.g.node('Pad', [dy, c.int64s(pads)], { mode: 'constant' })];
  },
  Gather: (n, dys, c) => [gatherGrad(n, only(dys), c)],
  GatherND: (n, dys, c) => [gatherNdGrad(n, only(dys), c)],
  ReduceSum: (n, dys, c) => [unreduce(n, only(dys), c, false)],
  ReduceMean: (n, dys, c) => [unreduce(n, only(dys), c, true)],
  MatMul: (n, dys, c) => {
    const dy = only(dys);
    const [A, B] = n.inputs as [string, string];
    const a = c.meta(A).dims;
    const b = c.meta(B).dims;
    const batch = c.meta(n.outputs[0]!).dims.slice(0, -2);
    const M = a[a.length - 2]!;
    const K = a[a.length - 1]!;
    const N = b[b.length - 1]!;
    const dA = c.needs(0) ? c.reduceTo(c.g.node('MatMul', [dy, swapLast(c.g, B, b.length)]), [...batch, M, K], a) : undefined;
    const dB = c.needs(1) ? c.reduceTo(c.g.node('MatMul', [swapLast(c.g, A, a.length), dy]), [...batch, K, N], b) : undefined;
    return [dA, dB];
  },
  Gemm: gemmGrad,
  Conv: convGrad,
  LayerNormalization: layerNormGrad,
};
