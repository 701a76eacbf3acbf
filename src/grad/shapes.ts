/**
 * Static shapes and element types of every value of a graph built with GraphBuilder, for concrete input
 * shapes (a training graph is built for one batch size). The backward rules need them to undo
 * broadcasting and to split gradients; int64 shape arithmetic (Shape → Slice → Concat …) is folded on
 * the way, so that Reshape and Expand targets are known numbers.
 */
import { type AttrValue, DataType, type DataTypeCode, type NodeData, type TensorData, type ValueInfo } from '../onnx/model.js';

export interface ValueMeta {
  readonly dims: readonly number[];
  readonly type: DataTypeCode;
  /** The values of a small int64 tensor known while building (shapes, indices, axes). */
  readonly ints?: readonly number[];
}

export interface GraphView {
  readonly nodes: readonly NodeData[];
  readonly initializers: readonly TensorData[];
  readonly inputs: readonly ValueInfo[];
}

export function numelOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** numpy broadcasting of two shapes. */
export function broadcastDims(a: readonly number[], b: readonly number[], where: string): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${where}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

export function intAttr(n: NodeData, name: string, dflt: number): number {
  const v = n.attributes?.[name];
  return typeof v === 'number' ? v : dflt;
}

export function intsAttr(n: NodeData, name: string): number[] | undefined {
  const v: AttrValue | undefined = n.attributes?.[name];
  return Array.isArray(v) ? [...(v as readonly number[])] : undefined;
}

/** A possibly negative axis made absolute for `rank`. */
export function axisOf(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

function decodeInt64(t: TensorData): number[] | undefined {
  if (!(t.raw instanceof Uint8Array)) return undefined;
  const n = numelOf(t.dims);
  if (n > 4096) return undefined;
  const copy = t.raw.slice(0, n * 8);
  return Array.from(new BigInt64Array(copy.buffer, 0, n), (v) => Number(v));
}

function sliceRange(dim: number, start: number, end: number, step: number): { start: number; count: number } {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return { start: s, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = clamp(s, -1, dim - 1);
  e = clamp(e, -1, dim - 1);
  return { start: s, count: Math.max(0, Math.ceil((s - e) / -step)) };
}

/** Resolved Slice parameters per axis of the data (start, step, count), from constant inputs. */
export function sliceParams(n: NodeData, meta: (v: string) => ValueMeta): { start: number; step: number; count: number }[] {
  const data = meta(n.inputs[0]!).dims;
  const known = (i: number) => {
    const name = n.inputs[i];
    if (!name) return undefined;
    const v = meta(name).ints;
    if (!v) throw new Error(`Slice ${n.name}: input ${i} (${name}) is not a constant known while building`);
    return v;
  };
  const starts = known(1)!;
  const ends = known(2)!;
  const axes = known(3) ?? starts.map((_, i) => i);
  const steps = known(4) ?? starts.map(() => 1);
  const out = data.map((d) => ({ start: 0, step: 1, count: d }));
  axes.forEach((a, i) => {
    const ax = axisOf(a, data.length);
    const r = sliceRange(data[ax]!, starts[i]!, ends[i]!, steps[i]!);
    out[ax] = { start: r.start, step: steps[i]!, count: r.count };
  });
  return out;
}

type Infer = (n: NodeData, m: (v: string) => ValueMeta) => ValueMeta[];

const same: Infer = (n, m) => [{ dims: m(n.inputs[0]!).dims, type: m(n.inputs[0]!).type }];

function broadcastOp(boolOut: boolean): Infer {
  return (n, m) => {
    const ins = n.inputs.filter(Boolean).map(m);
    let dims: readonly number[] = ins[0]!.dims;
    for (const x of ins.slice(1)) dims = broadcastDims(dims, x.dims, `${n.opType} ${n.name}`);
    const type = boolOut ? DataType.BOOL : n.opType === 'Where' ? ins[1]!.type : ins[0]!.type;
    return [{ dims, type }];
  };
}

function reduceDims(dims: readonly number[], axes: readonly number[] | undefined, keep: boolean): number[] {
  const set = new Set((axes && axes.length ? axes : dims.map((_, i) => i)).map((a) => axisOf(a, dims.length)));
  const out: number[] = [];
  dims.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

/** The axes of a reduction node: the `axes` input (ReduceSum, opset 13+) or attribute (the others in opset 17). */
export function reduceAxes(n: NodeData, m: (v: string) => ValueMeta): number[] | undefined {
  if (n.opType === 'ReduceSum') {
    const a = n.inputs[1];
    if (!a) return undefined;
    const v = m(a).ints;
    if (!v) throw new Error(`ReduceSum ${n.name}: axes must be a constant`);
    return [...v];
  }
  return intsAttr(n, 'axes');
}

const INFER: Record<string, Infer> = {
  Identity: (n, m) => [m(n.inputs[0]!)],
  Sigmoid: same, Tanh: same, Erf: same, Relu: same, Exp: same, Log: same, Sqrt: same, Neg: same,
  Reciprocal: same, Softmax: same, LogSoftmax: same, Abs: same, LayerNormalization: same,
  Cast: (n, m) => {
    const x = m(n.inputs[0]!);
    const to = intAttr(n, 'to', DataType.FLOAT) as DataTypeCode;
    return [{ dims: x.dims, type: to, ...(x.ints && to === DataType.INT64 ? { ints: x.ints } : {}) }];
  },
  Add: broadcastOp(false), Sub: broadcastOp(false), Mul: broadcastOp(false), Div: broadcastOp(false),
  Pow: broadcastOp(false), Sum: broadcastOp(false), Where: broadcastOp(false),
  Equal: broadcastOp(true), Greater: broadcastOp(true), Less: broadcastOp(true),
  Shape: (n, m) => {
    const d = m(n.inputs[0]!).dims;
    return [{ dims: [d.length], type: DataType.INT64, ints: [...d] }];
  },
  Slice: (n, m) => {
    const x = m(n.inputs[0]!);
    const p = sliceParams(n, m);
    const dims = p.map((q) => q.count);
    if (x.ints && x.dims.length === 1) {
      const q = p[0]!;
      return [{ dims, type: x.type, ints: Array.from({ length: q.count }, (_, i) => x.ints![q.start + i * q.step]!) }];
    }
    return [{ dims, type: x.type }];
  },
  Concat: (n, m) => {
    const ins = n.inputs.map(m);
    const rank = ins[0]!.dims.length;
    const ax = axisOf(intAttr(n, 'axis', 0), rank);
    const dims = [...ins[0]!.dims];
    dims[ax] = ins.reduce((s, x) => s + x.dims[ax]!, 0);
    const ints = rank === 1 && ins.every((x) => x.ints) ? ins.flatMap((x) => [...x.ints!]) : undefined;
    return [{ dims, type: ins[0]!.type, ...(ints ? { ints } : {}) }];
  },
  Unsqueeze: (n, m) => {
    const x = m(n.inputs[0]!);
    const axes = m(n.inputs[1]!).ints;
    if (!axes) throw new Error(`Unsqueeze ${n.name}: axes must be a constant`);
    const rank = x.dims.length + axes.length;
    const set = new Set(axes.map((a) => axisOf(a, rank)));
    const dims: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) dims.push(set.has(i) ? 1 : x.dims[k++]!);
    return [{ dims, type: x.type, ...(x.ints ? { ints: x.ints } : {}) }];
  },
  Squeeze: (n, m) => {
    const x = m(n.inputs[0]!);
    const axes = n.inputs[1] ? m(n.inputs[1]).ints : undefined;
    const set = new Set((axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(a, x.dims.length)));
    return [{ dims: x.dims.filter((_, i) => !set.has(i)), type: x.type, ...(x.ints ? { ints: x.ints } : {}) }];
  },
  Reshape: (n, m) => {
    const x = m(n.inputs[0]!);
    const target = m(n.inputs[1]!).ints;
    if (!target) throw new Error(`Reshape ${n.name}: the target shape must be known while building`);
    const dims = target.map((d, i) => (d === 0 && intAttr(n, 'allowzero', 0) === 0 ? x.dims[i]! : d));
    const neg = dims.indexOf(-1);
    if (neg >= 0) dims[neg] = numelOf(x.dims) / -numelOf(dims);
    if (numelOf(dims) !== numelOf(x.dims)) throw new Error(`Reshape ${n.name}: [${x.dims.join(', ')}] cannot become [${target.join(', ')}]`);
    return [{ dims, type: x.type, ...(x.ints ? { ints: x.ints } : {}) }];
  },
  Transpose: (n, m) => {
    const x = m(n.inputs[0]!);
    const perm = intsAttr(n, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
    return [{ dims: perm.map((p) => x.dims[p]!), type: x.type }];
  },
  Expand: (n, m) => {
    const x = m(n.inputs[0]!);
    const s = m(n.inputs[1]!).ints;
    if (!s) throw new Error(`Expand ${n.name}: the shape must be known while building`);
    return [{ dims: broadcastDims(x.dims, s, `Expand ${n.name}`), type: x.type }];
  },
  ConstantOfShape: (n, m) => {
    const s = m(n.inputs[0]!).ints;
    if (!s) throw new Error(`ConstantOfShape ${n.name}: the shape must be known while building`);
    const v = n.attributes?.value as TensorData | undefined;
    return [{ dims: [...s], type: v?.dataType ?? DataType.FLOAT }];
  },
  Gather: (n, m) => {
    const x = m(n.inputs[0]!);
    const idx = m(n.inputs[1]!);
    const ax = axisOf(intAttr(n, 'axis', 0), x.dims.length);
    const dims = [...x.dims.slice(0, ax), ...idx.dims, ...x.dims.slice(ax + 1)];
    const ints = x.ints && idx.ints && x.dims.length === 1 ? idx.ints.map((i) => x.ints![axisOf(i, x.dims[0]!)]!) : undefined;
    return [{ dims, type: x.type, ...(ints ? { ints } : {}) }];
  },
  GatherND: (n, m) => {
    const x = m(n.inputs[0]!);
    const idx = m(n.inputs[1]!).dims;
    const b = intAttr(n, 'batch_dims', 0);
    return [{ dims: [...idx.slice(0, -1), ...x.dims.slice(b + idx[idx.length - 1]!)], type: x.type }];
  },
  MatMul: (n, m) => {
    const a = m(n.inputs[0]!).dims;
    const b = m(n.inputs[1]!).dims;
    if (a.length < 2 || b.length < 2) throw new Error(`MatMul ${n.name}: 1-D operands are not supported for gradients`);
    if (a[a.length - 1] !== b[b.length - 2]) throw new Error(`MatMul ${n.name}: [${a.join(', ')}] @ [${b.join(', ')}]`);
    const batch = broadcastDims(a.slice(0, -2), b.slice(0, -2), `MatMul ${n.name}`);
    return [{ dims: [...batch, a[a.length - 2]!, b[b.length - 1]!], type: m(n.inputs[0]!).type }];
  },
  Gemm: (n, m) => {
    const a = m(n.inputs[0]!).dims;
    const b = m(n.inputs[1]!).dims;
    const M = intAttr(n, 'transA', 0) ? a[1]! : a[0]!;
    const N = intAttr(n, 'transB', 0) ? b[0]! : b[1]!;
    return [{ dims: [M, N], type: m(n.inputs[0]!).type }];
  },
  Conv: (n, m) => {
    const x = m(n.inputs[0]!);
    const w = m(n.inputs[1]!).dims;
    const k = intsAttr(n, 'kernel_shape') ?? w.slice(2);
    const strides = intsAttr(n, 'strides') ?? k.map(() => 1);
    const pads = intsAttr(n, 'pads') ?? [...k.map(() => 0), ...k.map(() => 0)];
    const dil = intsAttr(n, 'dilations') ?? k.map(() => 1);
    const sp = k.map((kk, i) => Math.floor((x.dims[2 + i]! + pads[i]! + pads[i + k.length]! - dil[i]! * (kk - 1) - 1) / strides[i]!) + 1);
    return [{ dims: [x.dims[0]!, w[0]!, ...sp], type: x.type }];
  },
  Split: (n, m) => {
    const x = m(n.inputs[0]!);
    const ax = axisOf(intAttr(n, 'axis', 0), x.dims.length);
    const sizes = n.inputs[1] ? m(n.inputs[1]).ints : Array.from({ length: n.outputs.length }, () => x.dims[ax]! / n.outputs.length);
    if (!sizes) throw new Error(`Split ${n.name}: split sizes must be constant`);
    return sizes.map((s) => {
      const dims = [...x.dims];
      dims[ax] = s;
      return { dims, type: x.type };
    });
  },
  ReduceSum: (n, m) => [{ dims: reduceDims(m(n.inputs[0]!).dims, reduceAxes(n, m), intAttr(n, 'keepdims', 1) === 1), type: m(n.inputs[0]!).type }],
  ReduceMean: (n, m) => [{ dims: reduceDims(m(n.inputs[0]!).dims, reduceAxes(n, m), intAttr(n, 'keepdims', 1) === 1), type: m(n.inputs[0]!).type }],
  ReduceMax: (n, m) => [{ dims: reduceDims(m(n.inputs[0]!).dims, reduceAxes(n, m), intAttr(n, 'keepdims', 1) === 1), type: m(n.inputs[0]!).type }],
  ArgMax: (n, m) => [{ dims: reduceDims(m(n.inputs[0]!).dims, [intAttr(n, 'axis', 0)], intAttr(n, 'keepdims', 1) === 1), type: DataType.INT64 }],
};

/**
 * Metadata of every value: graph inputs take `inputDims[name]` where given, else their fixed dims
 * (a symbolic dim without an entry in `inputDims` is an error).
 */
export function inferShapes(g: GraphView, inputDims: Readonly<Record<string, readonly number[]>> = {}): Map<string, ValueMeta> {
  const meta = new Map<string, ValueMeta>();
  for (const t of g.initializers) {
    const ints = t.dataType === DataType.INT64 ? decodeInt64(t) : undefined;
    meta.set(t.name, { dims: t.dims, type: t.dataType, ...(ints ? { ints } : {}) });
  }
  for (const i of g.inputs) {
    const given = inputDims[i.name];
    if (given) {
      meta.set(i.name, { dims: [...given], type: i.elemType });
      continue;
    }
    if (i.dims.some((d) => typeof d !== 'number')) throw new Error(`input ${i.name} has symbolic dims [${i.dims.join(', ')}]: give its concrete shape`);
    meta.set(i.name, { dims: i.dims as number[], type: i.elemType });
  }
  const get = (v: string): ValueMeta => {
    const x = meta.get(v);
    if (!x) throw new Error(`value ${v} is used before it is defined`);
    return x;
  };
  for (const n of g.nodes) {
    const rule = INFER[n.opType];
    if (!rule || (n.domain && n.domain !== 'ai.onnx')) throw new Error(`no shape rule for ${n.domain ? n.domain + '.' : ''}${n.opType} (node ${n.name})`);
    const outs = rule(n, get);
    n.outputs.forEach((o, i) => {
      if (o && outs[i]) meta.set(o, outs[i]!);
    });
  }
  return meta;
}
