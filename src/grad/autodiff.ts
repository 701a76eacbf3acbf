/**
 * Reverse-mode differentiation of a graph under construction: the backward pass is appended to the same
 * GraphBuilder as ordinary ONNX ops, so one inference session computes the loss and its gradients
 * (onnxruntime-node has no training API). Only nodes on a path from a `wrt` value to the loss get a
 * backward rule.
 */
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType, type DataTypeCode, type NodeData } from '../onnx/model.js';
import { inferShapes, type ValueMeta } from './shapes.js';
import { NON_DIFFERENTIABLE, VJP, type VjpContext } from './vjp.js';

export interface GradientOptions {
  /** A scalar value (dims [] or [1]) to differentiate. */
  readonly loss: string;
  /** Values (graph inputs, initializers or intermediate values) to differentiate with respect to. */
  readonly wrt: readonly string[];
  /** Concrete shapes of graph inputs with symbolic dims. */
  readonly inputDims?: Readonly<Record<string, readonly number[]>>;
  /** Values treated as constants (torch's `.detach()`): no gradient flows through them. */
  readonly stopGradient?: readonly string[];
}

export interface Gradients {
  /** wrt value → the value holding d loss / d wrt (same shape). */
  readonly grads: ReadonlyMap<string, string>;
  /** Static shapes and types of the forward values. */
  readonly meta: ReadonlyMap<string, ValueMeta>;
}

const isFloat = (t: DataTypeCode) => t === DataType.FLOAT || t === DataType.DOUBLE;

export function addGradients(g: GraphBuilder, opts: GradientOptions): Gradients {
  const view = g.view();
  const nodes: readonly NodeData[] = [...view.nodes];
  const meta = inferShapes(view, opts.inputDims);
  const m = (v: string): ValueMeta => {
    const x = meta.get(v);
    if (!x) throw new Error(`no shape for ${v}`);
    return x;
  };
  const lossMeta = m(opts.loss);
  if (lossMeta.dims.length > 1 || lossMeta.dims[0] !== undefined && lossMeta.dims[0] !== 1) {
    throw new Error(`loss ${opts.loss} must be a scalar, has dims [${lossMeta.dims.join(', ')}]`);
  }

  // Forward: values that depend on a wrt value through float data.
  const active = new Set<string>();
  for (const w of opts.wrt) {
    if (!isFloat(m(w).type)) throw new Error(`cannot differentiate with respect to ${w}: not a float tensor`);
    active.add(w);
  }
  const stopped = new Set(opts.stopGradient ?? []);
  for (const n of nodes) {
    if (NON_DIFFERENTIABLE.has(n.opType)) continue;
    if (!n.inputs.some((i) => active.has(i))) continue;
    for (const o of n.outputs) if (o && isFloat(m(o).type) && !stopped.has(o)) active.add(o);
  }
  if (!active.has(opts.loss)) throw new Error(`loss ${opts.loss} does not depend on ${opts.wrt.join(', ')}`);

  // Backward: active values the loss depends on.
  const needed = new Set<string>([opts.loss]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    for (const x of n.inputs) if (x && active.has(x)) needed.add(x);
  }

  const contributions = new Map<string, string[]>();
  const add = (v: string, gv: string) => {
    const list = contributions.get(v);
    if (list) list.push(gv);
    else contributions.set(v, [gv]);
  };
  const total = (v: string): string | undefined => {
    const list = contributions.get(v);
    if (!list || list.length === 0) return undefined;
    const s = list.length === 1 ? list[0]! : g.node('Sum', list);
    contributions.set(v, [s]);
    return s;
  };
  const ctxBase = {
    g,
    meta: m,
    scalar: (v: number, type: DataTypeCode) => g.constant('c', type, [v]),
    int64s: (values: readonly number[], dims?: readonly number[]) => g.int64s('i', values, dims ?? [values.length]),
    reduceTo(dy: string, from: readonly number[], to: readonly number[]): string {
      if (from.length === to.length && from.every((d, i) => d === to[i])) return dy;
      const lead = from.length - to.length;
      const axes: number[] = [];
      for (let i = 0; i < from.length; i++) if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
      const summed = axes.length ? g.node('ReduceSum', [dy, g.int64s('axes', axes)], { keepdims: 1 }) : dy;
      return g.node('Reshape', [summed, g.int64s('shape', to)]);
    },
  };

  add(opts.loss, g.constant('seed', lossMeta.type, [1], lossMeta.dims));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o) && contributions.has(o))) continue;
    const needs = n.inputs.map((x) => Boolean(x) && needed.has(x) && active.has(x));
    if (!needs.some(Boolean)) continue;
    const rule = VJP[n.opType];
    if (!rule || n.domain) throw new Error(`no gradient rule for ${n.domain ? n.domain + '.' : ''}${n.opType} (node ${n.name}); build the graph with 'plain' attention`);
    const dys = n.outputs.map((o) => (needed.has(o) ? total(o) : undefined));
    const ctx: VjpContext = { ...ctxBase, needs: (k: number) => needs[k] ?? false };
    const dxs = rule(n, dys, ctx);
    n.inputs.forEach((x, k) => {
      const dx = dxs[k];
      if (needs[k] && dx !== undefined) add(x, dx);
    });
  }

  const grads = new Map<string, string>();
  for (const w of opts.wrt) {
    const gw = total(w) ?? g.node('Expand', [g.constant('zero', m(w).type, [0]), g.int64s('shape', m(w).dims)]);
    grads.set(w, gw);
  }
  return { grads, meta };
}
