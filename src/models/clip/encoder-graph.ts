/**
 * The pre-LayerNorm transformer layers shared by CLIP's two towers (CLIPEncoderLayer), as ONNX nodes over
 * a residual stream kept 2-D ([batch*seq, hidden]) so that every projection is a Gemm with the
 * checkpoint's [out, in] weight used as is (transB) and pre-packed by onnxruntime.
 */
import type { GraphBuilder } from '../../onnx/graph-builder.js';
import type { ClipActivation } from './config.js';
import { concatRows, type StackedPart, transpose2d, type WeightReader } from './weights.js';

/**
 * 'fused': onnxruntime's com.microsoft Attention contrib op (q/k/v projection, scaled softmax, masks in
 * one kernel); 'plain': standard ONNX ops, exactly the eager attention of transformers.
 */
export type AttentionImpl = 'fused' | 'plain';

export interface EncoderShape {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly hiddenAct: ClipActivation;
  readonly layerNormEps: number;
}

export interface EncoderContext {
  readonly attention: AttentionImpl;
  /** Builds the int64 shape tensor [batch, seq, hidden] ('fused') or [batch, seq, heads, head_dim] ('plain'), once. */
  readonly shape: (dims: 'bsd' | 'bshd') => string;
  /** Causal (text) attention. */
  readonly causal: boolean;
  /** 'plain': float additive mask broadcastable to [batch, heads, seq, seq] (causal and padding already in it). */
  readonly additiveMask?: string;
  /** 'fused': int32 [batch, seq] key padding mask (1 keep, 0 masked). */
  readonly maskIndex?: string;
  /**
   * Told the input of every nn.Linear (module name, the 2-D value [batch*seq, in], in): where RegMean
   * taps the activations. q/k/v share one value.
   */
  readonly linearInput?: (module: string, value: string, inDim: number) => void;
}

/** Wraps a shape-tensor factory so that each shape is added to the graph at most once, when first used. */
export function lazyShapes(make: (dims: 'bsd' | 'bshd') => string): (dims: 'bsd' | 'bshd') => string {
  const made = new Map<string, string>();
  return (dims) => {
    let v = made.get(dims);
    if (v === undefined) made.set(dims, (v = make(dims)));
    return v;
  };
}

export function layerNorm(g: GraphBuilder, w: WeightReader, prefix: string, x: string, d: number, eps: number): string {
  const scale = w.param(g, `${prefix}.weight`, [d]);
  const bias = w.param(g, `${prefix}.bias`, [d]);
  return g.node('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { f: eps } });
}

/** x @ W.T + b with the checkpoint's Linear weight [out, in]. */
export function linear(g: GraphBuilder, w: WeightReader, prefix: string, x: string, inDim: number, outDim: number, bias = true): string {
  const inputs = [x, w.param(g, `${prefix}.weight`, [outDim, inDim])];
  if (bias) inputs.push(w.param(g, `${prefix}.bias`, [outDim]));
  return adapted(g, w, prefix, x, g.node('Gemm', inputs, { transB: 1 }));
}

/** `y` (the output of Linear `module` on `x`) plus the reader's adapter term for it, times `scale`. */
function adapted(g: GraphBuilder, w: WeightReader, module: string, x: string, y: string, scale?: number): string {
  const delta = w.linearAdapter?.(g, module, x);
  if (!delta) return y;
  return g.node('Add', [y, scale === undefined ? delta : g.node('Mul', [delta, g.floats('scale', [Math.fround(scale)])])]);
}

function activation(g: GraphBuilder, act: ClipActivation, x: string): string {
  switch (act) {
    case 'quick_gelu': {
      // x * sigmoid(1.702 x): onnxruntime fuses this into its QuickGelu kernel.
      const s = g.node('Sigmoid', [g.node('Mul', [x, g.floats('qg_alpha', [1.702])])]);
      return g.node('Mul', [x, s]);
    }
    case 'gelu': {
      // 0.5 x (1 + erf(x / sqrt 2)): the pattern onnxruntime's GeluFusion recognises.
      const e = g.node('Erf', [g.node('Div', [x, g.floats('sqrt2', [Math.SQRT2])])]);
      const h = g.node('Mul', [x, g.node('Add', [e, g.floats('one', [1])])]);
      return g.node('Mul', [h, g.floats('half', [0.5])]);
    }
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      const x3 = g.node('Mul', [g.node('Mul', [x, x]), x]);
      const inner = g.node('Add', [x, g.node('Mul', [x3, g.floats('c', [0.044715])])]);
      const t = g.node('Tanh', [g.node('Mul', [inner, g.floats('k', [Math.sqrt(2 / Math.PI)])])]);
      return g.node('Mul', [g.node('Mul', [x, g.floats('half', [0.5])]), g.node('Add', [t, g.floats('one', [1])])]);
    }
    case 'relu':
      return g.node('Relu', [x]);
  }
}

/** The `kind` ('weight'/'bias') of self_attn's `n`_proj under `attn`, as a part of a stacked projection. */
function projPart(attn: string, n: string, kind: string, shape: number[], scale?: number): StackedPart {
  return { key: `${attn}.${n}_proj.${kind}`, shape, ...(scale === undefined ? {} : { scale }) };
}

function attentionPlain(g: GraphBuilder, w: WeightReader, p: string, x: string, c: EncoderShape, ctx: EncoderContext): string {
  const d = c.hiddenSize;
  const headDim = d / c.numAttentionHeads;
  // q is scaled by head_dim^-0.5 before q·k as in transformers; folding the scale into the q projection
  // is exact when head_dim is a power of 4 (64, 256) and within one rounding otherwise.
  const s = headDim ** -0.5;
  const part = (n: string, kind: string, shape: number[], scale?: number) => projPart(p, n, kind, shape, scale);
  const wqkv = w.stacked(g, `${p}.qkv.weight`, [part('q', 'weight', [d, d], s), part('k', 'weight', [d, d]), part('v', 'weight', [d, d])]);
  const bqkv = w.stacked(g, `${p}.qkv.bias`, [part('q', 'bias', [d], s), part('k', 'bias', [d]), part('v', 'bias', [d])]);
  const qkv = g.node('Gemm', [x, wqkv, bqkv], { transB: 1 });
  const [q, k, v] = g.nodeOutputs('Split', [qkv, g.int64s('split', [d, d, d])], { axis: 1 }, { outputs: 3 });
  const heads = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, ctx.shape('bshd')])], { perm });
  const qh = heads(adapted(g, w, `${p}.q_proj`, x, q!, s), [0, 2, 1, 3]);
  const kt = heads(adapted(g, w, `${p}.k_proj`, x, k!), [0, 2, 3, 1]);
  const vh = heads(adapted(g, w, `${p}.v_proj`, x, v!), [0, 2, 1, 3]);
  let scores = g.node('MatMul', [qh, kt]);
  if (ctx.additiveMask) scores = g.node('Add', [scores, ctx.additiveMask]);
  const probs = g.node('Softmax', [scores], { axis: -1 });
  const ctxh = g.node('MatMul', [probs, vh]);
  const merged = g.node('Reshape', [g.node('Transpose', [ctxh], { perm: [0, 2, 1, 3] }), g.int64s('shape_nd', [-1, d])]);
  ctx.linearInput?.(`${p}.out_proj`, merged, d);
  return linear(g, w, `${p}.out_proj`, merged, d, d);
}

function attentionFused(g: GraphBuilder, w: WeightReader, p: string, x: string, c: EncoderShape, ctx: EncoderContext): string {
  const d = c.hiddenSize;
  if (w.asInputs) throw new Error(`${p}: the fused Attention op has no gradient; build with attention 'plain' to feed weights as inputs`);
  // The contrib op wants the projection as [in, 3*hidden]: q, k, v side by side.
  const [wq, wk, wv] = (['q', 'k', 'v'] as const).map((n) => w.lazy(`${p}.${n}_proj.weight`, [d, d]));
  const [bq, bk, bv] = (['q', 'k', 'v'] as const).map((n) => w.lazy(`${p}.${n}_proj.bias`, [d]));
  const wqkv = () => transpose2d(concatRows([wq!(), wk!(), wv!()]), 3 * d, d);
  const bqkv = () => concatRows([bq!(), bk!(), bv!()]);
  const x3 = g.node('Reshape', [x, ctx.shape('bsd')]);
  const inputs = [x3, g.weight(`${p}.qkv.weight`, wqkv, [d, 3 * d]), g.weight(`${p}.qkv.bias`, bqkv, [3 * d])];
  if (ctx.maskIndex) inputs.push(ctx.maskIndex);
  const attrs: Record<string, number> = { num_heads: c.numAttentionHeads };
  if (ctx.causal) attrs.unidirectional = 1;
  const out = g.node('Attention', inputs, attrs, { domain: 'com.microsoft' });
  const out2 = g.node('Reshape', [out, g.int64s('shape_nd', [-1, d])]);
  ctx.linearInput?.(`${p}.out_proj`, out2, d);
  return linear(g, w, `${p}.out_proj`, out2, d, d);
}

/**
 * Appends encoder layers under `prefix` (e.g. 'vision_model.encoder') to the 2-D stream `x`: all of them,
 * or the first `count`.
 */
export function addEncoderLayers(g: GraphBuilder, w: WeightReader, prefix: string, x: string, c: EncoderShape, ctx: EncoderContext, count = c.numHiddenLayers): string {
  const d = c.hiddenSize;
  let h = x;
  for (let i = 0; i < count; i++) {
    const p = `${prefix}.layers.${i}`;
    const attnIn = layerNorm(g, w, `${p}.layer_norm1`, h, d, c.layerNormEps);
    for (const n of ['q', 'k', 'v']) ctx.linearInput?.(`${p}.self_attn.${n}_proj`, attnIn, d);
    const attn = ctx.attention === 'fused'
      ? attentionFused(g, w, `${p}.self_attn`, attnIn, c, ctx)
      : attentionPlain(g, w, `${p}.self_attn`, attnIn, c, ctx);
    h = g.node('Add', [h, attn]);
    const mlpIn = layerNorm(g, w, `${p}.layer_norm2`, h, d, c.layerNormEps);
    ctx.linearInput?.(`${p}.mlp.fc1`, mlpIn, d);
    const fc1 = linear(g, w, `${p}.mlp.fc1`, mlpIn, d, c.intermediateSize);
    const act = activation(g, c.hiddenAct, fc1);
    ctx.linearInput?.(`${p}.mlp.fc2`, act, c.intermediateSize);
    const fc2 = linear(g, w, `${p}.mlp.fc2`, act, c.intermediateSize, d);
    h = g.node('Add', [h, fc2]);
  }
  return h;
}

/**
 * The last encoder layer computed for the first token (CLS) only, for when nothing but the pooled output
 * is wanted: keys and values still come from every token, but the query, out_proj, MLP and norms run on
 * one row per image instead of `tokens` (about 7% of a ViT-B/32 forward). Rows are independent in all of
 * these, so the CLS row is what the full layer would give. `x` is the 2-D stream [batch*tokens, hidden];
 * returns [batch, hidden].
 */
export function addClsOnlyLayer(g: GraphBuilder, w: WeightReader, prefix: string, layer: number, x: string, c: EncoderShape, tokens: number): string {
  const d = c.hiddenSize;
  const heads = c.numAttentionHeads;
  const hd = d / heads;
  const p = `${prefix}.layers.${layer}`;
  const a = `${p}.self_attn`;
  const toBSD = g.int64s('shape_bsd', [-1, tokens, d]);
  const clsIndex = g.int64s('cls_index', [0]);
  const clsRows = (t: string) => g.node('Reshape', [g.node('Gather', [g.node('Reshape', [t, toBSD]), clsIndex], { axis: 1 }), g.int64s('shape_nd', [-1, d])]);

  const xn = layerNorm(g, w, `${p}.layer_norm1`, x, d, c.layerNormEps);
  const part = (n: string, kind: string, shape: number[], scale?: number) => projPart(a, n, kind, shape, scale);
  const kvW = w.stacked(g, `${a}.kv.weight`, [part('k', 'weight', [d, d]), part('v', 'weight', [d, d])]);
  const kvB = w.stacked(g, `${a}.kv.bias`, [part('k', 'bias', [d]), part('v', 'bias', [d])]);
  const kv = g.node('Gemm', [xn, kvW, kvB], { transB: 1 });
  const [k, v] = g.nodeOutputs('Split', [kv, g.int64s('split', [d, d])], { axis: 1 }, { outputs: 2 });
  const bshd = g.int64s('shape_bshd', [-1, tokens, heads, hd]);
  const kt = g.node('Transpose', [g.node('Reshape', [adapted(g, w, `${a}.k_proj`, xn, k!), bshd])], { perm: [0, 2, 3, 1] });
  const vh = g.node('Transpose', [g.node('Reshape', [adapted(g, w, `${a}.v_proj`, xn, v!), bshd])], { perm: [0, 2, 1, 3] });

  // The query of the CLS token, scaled as in attentionPlain.
  const s = hd ** -0.5;
  const wq = w.stacked(g, `${a}.q.weight`, [part('q', 'weight', [d, d], s)]);
  const bq = w.stacked(g, `${a}.q.bias`, [part('q', 'bias', [d], s)]);
  const clsIn = clsRows(xn);
  const q = adapted(g, w, `${a}.q_proj`, clsIn, g.node('Gemm', [clsIn, wq, bq], { transB: 1 }), s);
  const qh = g.node('Transpose', [g.node('Reshape', [q, g.int64s('shape_b1hd', [-1, 1, heads, hd])])], { perm: [0, 2, 1, 3] });
  const probs = g.node('Softmax', [g.node('MatMul', [qh, kt])], { axis: -1 });
  const ctx = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] }), g.int64s('shape_nd', [-1, d])]);
  const h = g.node('Add', [clsRows(x), linear(g, w, `${a}.out_proj`, ctx, d, d)]);

  const mlpIn = layerNorm(g, w, `${p}.layer_norm2`, h, d, c.layerNormEps);
  const fc1 = linear(g, w, `${p}.mlp.fc1`, mlpIn, d, c.intermediateSize);
  return g.node('Add', [h, linear(g, w, `${p}.mlp.fc2`, activation(g, c.hiddenAct, fc1), c.intermediateSize, d)]);
}
