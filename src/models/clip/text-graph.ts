/**
 * CLIP's text tower (transformers 4.45 CLIPTextTransformer, eager) as an ONNX model:
 * input_ids, attention_mask [batch, seq] int64 → token + position embeddings → causal encoder →
 * final_layer_norm → pooled at the EOS position; optionally text_projection.
 */
import { DataType } from '../../onnx/model.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import type { StateDict } from '../../tensor/types.js';
import type { ClipTextConfig } from './config.js';
import { addEncoderLayers, type AttentionImpl, layerNorm, lazyShapes } from './encoder-graph.js';
import { WeightReader } from './weights.js';

export interface TextGraphOptions {
  /** Key prefix of the tower's tensors (default 'text_model'). */
  readonly prefix?: string;
  /** A bias-free projection [projection_dim, hidden] applied to the pooled output (e.g. `text_projection.weight`). */
  readonly projection?: Float32Array;
  readonly attention?: AttentionImpl;
  /** Also output `last_hidden_state` [batch, seq, hidden] (after final_layer_norm). */
  readonly lastHiddenState?: boolean;
  readonly source?: string;
}

export const TEXT_INPUT_IDS = 'input_ids';
export const TEXT_ATTENTION_MASK = 'attention_mask';
export const TEXT_POOLED = 'pooled';
export const TEXT_EMBEDS = 'text_embeds';
export const TEXT_HIDDEN = 'last_hidden_state';

/** torch.finfo(torch.float32).min: transformers masks with it, not with -inf. */
const F32_MIN = -3.4028234663852886e38;

/** The values addClipTextTower adds. */
export interface TextTowerValues {
  readonly pooled: string;
  readonly embeds?: string;
  readonly hidden?: string;
}

export function buildClipTextGraph(cfg: ClipTextConfig, sd: StateDict, opts: TextGraphOptions = {}): Uint8Array {
  return clipTextGraph(cfg, sd, opts).build();
}

/** The text tower as a GraphBuilder with its outputs marked (weights still lazy), to build either way. */
export function clipTextGraph(cfg: ClipTextConfig, sd: StateDict, opts: TextGraphOptions = {}): GraphBuilder {
  const g = new GraphBuilder('clip_text');
  const t = addClipTextTower(g, new WeightReader(sd, opts.source ?? 'text checkpoint'), cfg, opts);
  const d = cfg.hiddenSize;
  if (t.hidden) g.output(t.hidden, TEXT_HIDDEN, DataType.FLOAT, ['batch', 'sequence', d]);
  g.output(t.pooled, TEXT_POOLED, DataType.FLOAT, ['batch', d]);
  if (t.embeds && opts.projection) g.output(t.embeds, TEXT_EMBEDS, DataType.FLOAT, ['batch', opts.projection.length / d]);
  return g;
}

/**
 * Adds the tower to `g` (graph inputs input_ids and attention_mask included) and returns its values. With
 * a reader made `asInputs`, every checkpoint tensor is a graph input, for gradients ('plain' attention).
 */
export function addClipTextTower(g: GraphBuilder, w: WeightReader, cfg: ClipTextConfig, opts: TextGraphOptions = {}): TextTowerValues {
  const prefix = opts.prefix ?? 'text_model';
  const attention = opts.attention ?? 'fused';
  const d = cfg.hiddenSize;
  const heads = cfg.numAttentionHeads;
  const maxPos = cfg.maxPositionEmbeddings;

  const ids = g.input(TEXT_INPUT_IDS, DataType.INT64, ['batch', 'sequence']);
  const mask = g.input(TEXT_ATTENTION_MASK, DataType.INT64, ['batch', 'sequence']);
  const idsShape = g.node('Shape', [ids]);
  const seqLen = g.node('Slice', [idsShape, g.int64s('one', [1]), g.int64s('two', [2])]);

  const e = `${prefix}.embeddings`;
  const tokEmb = w.param(g, `${e}.token_embedding.weight`, [cfg.vocabSize, d], 'token_embedding');
  const posEmb = w.param(g, `${e}.position_embedding.weight`, [maxPos, d], 'position_embedding');
  const tokens = g.node('Gather', [tokEmb, ids], { axis: 0 });
  const positions = g.node('Slice', [posEmb, g.int64s('zero', [0]), seqLen, g.int64s('axis0', [0])]);
  const embeddings = g.node('Add', [tokens, positions]);
  const x = g.node('Reshape', [embeddings, g.int64s('shape', [-1, d])]);

  const shape = lazyShapes((dims) => dims === 'bsd'
    ? g.node('Concat', [idsShape, g.int64s('d', [d])], { axis: 0 })
    : g.node('Concat', [idsShape, g.int64s('h_hd', [heads, d / heads])], { axis: 0 }));
  let additiveMask: string | undefined;
  let maskIndex: string | undefined;
  // transformers masks every position whose attention_mask is not 1.
  const keep = g.node('Equal', [mask, g.int64s('one_i', [1], [])]);
  if (attention === 'fused') {
    maskIndex = g.node('Cast', [keep], { to: DataType.INT32 });
  } else {
    // Causal part: F32_MIN above the diagonal, sliced to the sequence length. Padding part: F32_MIN where
    // attention_mask != 1. transformers adds both to the scores one after the other; adding them first
    // gives the same result (either way a doubly masked score is -inf after overflow).
    const causal = new Float32Array(maxPos * maxPos);
    for (let i = 0; i < maxPos; i++) for (let j = i + 1; j < maxPos; j++) causal[i * maxPos + j] = F32_MIN;
    const causalW = g.weight('causal_mask', causal, [maxPos, maxPos]);
    const causalS = g.node('Slice', [causalW, g.int64s('zeros', [0, 0]), g.node('Concat', [seqLen, seqLen], { axis: 0 }), g.int64s('axes01', [0, 1])]);
    const pad = g.node('Where', [keep, g.floats('zero_f', [0]), g.floats('min_f', [F32_MIN])]);
    const pad4 = g.node('Unsqueeze', [pad, g.int64s('axes12', [1, 2])]);
    additiveMask = g.node('Add', [causalS, pad4]);
  }
  const hidden = addEncoderLayers(g, w, `${prefix}.encoder`, x, cfg, {
    attention, shape, causal: true, additiveMask, maskIndex,
  });
  const final = layerNorm(g, w, `${prefix}.final_layer_norm`, hidden, d, cfg.layerNormEps);
  const final3 = g.node('Reshape', [final, shape('bsd')]);

  // Pooling position, as transformers 4.45: the legacy eos_token_id 2 means argmax(input_ids) (the first
  // largest id, the EOS token in the real vocabulary); otherwise the first position equal to eos_token_id.
  const key = cfg.eosTokenId === 2
    ? g.node('Cast', [ids], { to: DataType.INT32 })
    : g.node('Cast', [g.node('Equal', [ids, g.int64s('eos', [cfg.eosTokenId], [])])], { to: DataType.INT32 });
  const at = g.node('ArgMax', [key], { axis: 1, keepdims: 1, select_last_index: 0 });
  const pooled = g.node('GatherND', [final3, at], { batch_dims: 1 });
  let embeds: string | undefined;
  if (opts.projection) {
    const e2 = opts.projection.length / d;
    if (!Number.isInteger(e2) || e2 === 0) throw new Error(`text projection has ${opts.projection.length} values, not a multiple of hidden size ${d}`);
    embeds = g.node('Gemm', [pooled, g.weight('text_projection', opts.projection, [e2, d])], { transB: 1 });
  }
  return { pooled, ...(embeds ? { embeds } : {}), ...(opts.lastHiddenState ? { hidden: final3 } : {}) };
}
