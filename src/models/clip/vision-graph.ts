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
  /** Told the input of every nn.Linear of the encoder (see EncoderContext); every layer then runs on all tokens. */
  readonly linearInput?: (module: string, value: string, inDim: number) => void;
}

/** The values addClipVisionTower adds. */
export interface VisionTowerValues {
  readonly pixels: string;
  readonly pooled: string;
  readonly embeds?: string;
  readonly hidden?: string;
}

/** Graph input and output names. */
export const VISION_INPUT = 'pixel_values';
export const VISION_POOLED = 'pooled';
export const VISION_EMBEDS = 'image_embeds';
export const VISION_HIDDEN = 'last_hidden_state';

export function buildClipVisionGraph(cfg: ClipVisionConfig, sd: StateDict, opts: VisionGraphOptions = {}): Uint8Array {
  return clipVisionGraph(cfg, sd, opts).build();
}

/** The vision tower as a GraphBuilder with its outputs marked (weights still lazy), to build either way. */
export function clipVisionGraph(cfg: ClipVisionConfig, sd: StateDict, opts: VisionGraphOptions = {}): GraphBuilder {
  const g = new GraphBuilder('clip_vision');
  const w = new WeightReader(sd, opts.source ?? 'vision checkpoint');
  const v = addClipVisionTower(g, w, cfg, opts);
  const d = cfg.hiddenSize;
  if (v.hidden) g.output(v.hidden, VISION_HIDDEN, DataType.FLOAT, ['batch', (cfg.imageSize / cfg.patchSize) ** 2 + 1, d]);
  g.output(v.pooled, VISION_POOLED, DataType.FLOAT, ['batch', d]);
  if (v.embeds && opts.projection) g.output(v.embeds, VISION_EMBEDS, DataType.FLOAT, ['batch', opts.projection.length / d]);
  return g;
}

/**
 * Adds the tower to `g` (the graph input `pixel_values` included) and returns its values. With a reader
 * made `asInputs`, every checkpoint tensor is a graph input, for gradients (use 'plain' attention).
 */
export function addClipVisionTower(g: GraphBuilder, w: WeightReader, cfg: ClipVisionConfig, opts: VisionGraphOptions = {}): VisionTowerValues {
  const prefix = opts.prefix ?? 'vision_model';
  const d = cfg.hiddenSize;
  const grid = cfg.imageSize / cfg.patchSize;
  const patches = grid * grid;
  const tokens = patches + 1;
  const heads = cfg.numAttentionHeads;

  const pixels = g.input(VISION_INPUT, DataType.FLOAT, ['batch', cfg.numChannels, cfg.imageSize, cfg.imageSize]);
  const e = `${prefix}.embeddings`;
  const convW = w.param(g, `${e}.patch_embedding.weight`, [d, cfg.numChannels, cfg.patchSize, cfg.patchSize], 'patch_embedding');
  const conv = g.node('Conv', [pixels, convW], {
    kernel_shape: [cfg.patchSize, cfg.patchSize],
    strides: [cfg.patchSize, cfg.patchSize],
  });
  const patchSeq = g.node('Transpose', [g.node('Reshape', [conv, g.int64s('shape', [0, d, patches])])], { perm: [0, 2, 1] });

  // Position embeddings split into the CLS row and the patch rows; cls + pos[0] is the same single float
  // addition transformers does after concatenating.
  let clsPos: string;
  let patchPos: string;
  if (w.asInputs) {
    const pos = w.param(g, `${e}.position_embedding.weight`, [tokens, d]);
    const cls = w.param(g, `${e}.class_embedding`, [d]);
    const rows = (from: number, to: number) => g.node('Slice', [pos, g.int64s('start', [from]), g.int64s('end', [to]), g.int64s('axis0', [0])]);
    clsPos = g.node('Reshape', [g.node('Add', [cls, rows(0, 1)]), g.int64s('shape_11d', [1, 1, d])]);
    patchPos = rows(1, tokens);
  } else {
    const pos = w.load(`${e}.position_embedding.weight`, [tokens, d]);
    const cls = w.load(`${e}.class_embedding`, [d]);
    const clsPosData = new Float32Array(d);
    for (let i = 0; i < d; i++) clsPosData[i] = cls[i]! + pos[i]!;
    clsPos = g.weight('class_position_embedding', clsPosData, [1, 1, d]);
    patchPos = g.weight('patch_position_embedding', pos.subarray(d), [patches, d]);
  }
  const patchesPos = g.node('Add', [patchSeq, patchPos]);
  const batch = g.node('Slice', [g.node('Shape', [pixels]), g.int64s('zero', [0]), g.int64s('one', [1])]);
  const clsShape = g.node('Concat', [batch, g.int64s('one_d', [1, d])], { axis: 0 });
  const clsRows = g.node('Expand', [clsPos, clsShape]);
  const embeddings = g.node('Concat', [clsRows, patchesPos], { axis: 1 });

  const x = g.node('Reshape', [embeddings, g.int64s('shape', [-1, d])]);
  const pre = layerNorm(g, w, `${prefix}.pre_layrnorm`, x, d, cfg.layerNormEps);
  const ctx = {
    attention: opts.attention ?? 'fused',
    shape: lazyShapes((dims) => dims === 'bsd'
      ? g.int64s('shape_bsd', [-1, tokens, d])
      : g.int64s('shape_bshd', [-1, tokens, heads, d / heads])),
    causal: false,
    ...(opts.linearInput ? { linearInput: opts.linearInput } : {}),
  } as const;
  let clsOut: string;
  let hidden3: string | undefined;
  if (opts.lastHiddenState || opts.linearInput || cfg.numHiddenLayers === 0) {
    const hidden = addEncoderLayers(g, w, `${prefix}.encoder`, pre, cfg, ctx);
    hidden3 = g.node('Reshape', [hidden, g.int64s('shape', [-1, tokens, d])]);
    clsOut = g.node('Gather', [hidden3, g.int64s('cls_index', [0], [])], { axis: 1 });
  } else {
    // Only the CLS row of the last layer reaches the outputs.
    const hidden = addEncoderLayers(g, w, `${prefix}.encoder`, pre, cfg, ctx, cfg.numHiddenLayers - 1);
    clsOut = addClsOnlyLayer(g, w, `${prefix}.encoder`, cfg.numHiddenLayers - 1, hidden, cfg, tokens);
  }
  const pooled = layerNorm(g, w, `${prefix}.post_layernorm`, clsOut, d, cfg.layerNormEps);
  let embeds: string | undefined;
  if (opts.projection) {
    const e2 = opts.projection.length / d;
    if (!Number.isInteger(e2) || e2 === 0) throw new Error(`visual projection has ${opts.projection.length} values, not a multiple of hidden size ${d}`);
    embeds = g.node('Gemm', [pooled, g.weight('visual_projection', opts.projection, [e2, d])], { transB: 1 });
  }
  return { pixels, pooled, ...(embeds ? { embeds } : {}), ...(hidden3 ? { hidden: hidden3 } : {}) };
}
