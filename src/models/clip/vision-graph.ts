/**
 * CLIP's vision tower (transformers' CLIPVisionTransformer, eager) as an ONNX model:
 * pixel_values [batch, C, S, S] → patch Conv (no bias) → [CLS, patches] + position embeddings →
 * pre_layrnorm → encoder → post_layernorm of the CLS token = pooled; optionally visual_projection.
 */
import { DataType } from '../../onnx/model.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import type { StateDict } from '../../tensor/types.js';
import type { ClipVisionConfig } from './config.js';
import { addClsOnlyLayer, addEncoderLayers, type AttentionImpl, layerNorm, lazyShapes } from './encoder-graph.js';
import { WeightReader } from './weights.js';

export interface VisionGraphOptions {
  /** Key prefix of the tower's tensors (default 'vision_model'). */
  readonly prefix?: string;
  /** A bias-free projection [projection_dim, hidden] applied to the pooled output (e.g. `visual_projection.weight`). */
  readonly projection?: Float32Array;
  readonly attention?: AttentionImpl;
  /** Also output `last_hidden_state` [batch, tokens, hidden] (the encoder output before post_layernorm). */
  readonly lastHiddenState?: boolean;
  /** Names the checkpoint in error messages. */
  readonly source?: string;
}

/** Graph input and output names. */
export const VISION_INPUT = 'pixel_values';
export const VISION_POOLED = 'pooled';
export const VISION_EMBEDS = 'image_embeds';
export const VISION_HIDDEN = 'last_hidden_state';

export function buildClipVisionGraph(cfg: ClipVisionConfig, sd: StateDict, opts: VisionGraphOptions = {}): Uint8Array {
  const prefix = opts.prefix ?? 'vision_model';
  const w = new WeightReader(sd, opts.source ?? 'vision checkpoint');
  const g = new GraphBuilder('clip_vision');
  const d = cfg.hiddenSize;
  const grid = cfg.imageSize / cfg.patchSize;
  const patches = grid * grid;
  const tokens = patches + 1;
  const heads = cfg.numAttentionHeads;

  const pixels = g.input(VISION_INPUT, DataType.FLOAT, ['batch', cfg.numChannels, cfg.imageSize, cfg.imageSize]);
  const e = `${prefix}.embeddings`;
  const convW = w.lazy(`${e}.patch_embedding.weight`, [d, cfg.numChannels, cfg.patchSize, cfg.patchSize]);
  const conv = g.node('Conv', [pixels, g.weight('patch_embedding', convW, [d, cfg.numChannels, cfg.patchSize, cfg.patchSize])], {
    kernel_shape: [cfg.patchSize, cfg.patchSize],
    strides: [cfg.patchSize, cfg.patchSize],
  });
  const patchSeq = g.node('Transpose', [g.node('Reshape', [conv, g.int64s('shape', [0, d, patches])])], { perm: [0, 2, 1] });

  // Position embeddings split into the CLS row and the patch rows; cls + pos[0] is the same single float
  // addition transformers does after concatenating.
  const pos = w.load(`${e}.position_embedding.weight`, [tokens, d]);
  const cls = w.load(`${e}.class_embedding`, [d]);
  const clsPos = new Float32Array(d);
  for (let i = 0; i < d; i++) clsPos[i] = cls[i]! + pos[i]!;
  const patchesPos = g.node('Add', [patchSeq, g.weight('patch_position_embedding', pos.subarray(d), [patches, d])]);
  const batch = g.node('Slice', [g.node('Shape', [pixels]), g.int64s('zero', [0]), g.int64s('one', [1])]);
  const clsShape = g.node('Concat', [batch, g.int64s('one_d', [1, d])], { axis: 0 });
  const clsRows = g.node('Expand', [g.weight('class_position_embedding', clsPos, [1, 1, d]), clsShape]);
  const embeddings = g.node('Concat', [clsRows, patchesPos], { axis: 1 });

  const x = g.node('Reshape', [embeddings, g.int64s('shape', [-1, d])]);
  const pre = layerNorm(g, w, `${prefix}.pre_layrnorm`, x, d, cfg.layerNormEps);
  const ctx = {
    attention: opts.attention ?? 'fused',
    shape: lazyShapes((dims) => dims === 'bsd'
      ? g.int64s('shape_bsd', [-1, tokens, d])
      : g.int64s('shape_bshd', [-1, tokens, heads, d / heads])),
    causal: false,
  } as const;
  let clsOut: string;
  if (opts.lastHiddenState || cfg.numHiddenLayers === 0) {
    const hidden = addEncoderLayers(g, w, `${prefix}.encoder`, pre, cfg, ctx);
    const hidden3 = g.node('Reshape', [hidden, g.int64s('shape', [-1, tokens, d])]);
    if (opts.lastHiddenState) g.output(hidden3, VISION_HIDDEN, DataType.FLOAT, ['batch', tokens, d]);
    clsOut = g.node('Gather', [hidden3, g.int64s('cls_index', [0], [])], { axis: 1 });
  } else {
    // Only the CLS row of the last layer reaches the outputs.
    const hidden = addEncoderLayers(g, w, `${prefix}.encoder`, pre, cfg, ctx, cfg.numHiddenLayers - 1);
    clsOut = addClsOnlyLayer(g, w, `${prefix}.encoder`, cfg.numHiddenLayers - 1, hidden, cfg, tokens);
  }
  const pooled = layerNorm(g, w, `${prefix}.post_layernorm`, clsOut, d, cfg.layerNormEps);
  g.output(pooled, VISION_POOLED, DataType.FLOAT, ['batch', d]);
  if (opts.projection) {
    const e2 = opts.projection.length / d;
    if (!Number.isInteger(e2) || e2 === 0) throw new Error(`visual projection has ${opts.projection.length} values, not a multiple of hidden size ${d}`);
    const embeds = g.node('Gemm', [pooled, g.weight('visual_projection', opts.projection, [e2, d])], { transB: 1 });
    g.output(embeds, VISION_EMBEDS, DataType.FLOAT, ['batch', e2]);
  }
  return g.build();
}
