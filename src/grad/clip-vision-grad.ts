/**
 * Loss and gradients of a CLIP vision tower under a zero-shot head, from one onnxruntime session: the
 * tower graph of src/models/clip with its checkpoint tensors as graph inputs, the loss, and the backward
 * pass built by autodiff.ts. The weights and the head are fed on every run, so one session serves every
 * step and every task of a fine-tuning or merging run (heads with fewer classes than the session's are
 * padded with classes whose logits are pushed to −1e4: softmax gives them exactly 0, so losses and
 * gradients equal those of the unpadded head).
 */
import { ort } from '../onnx/runtime.js';
import { UserError } from '../errors.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType } from '../onnx/model.js';
import type { StateDict } from '../tensor/types.js';
import type { ClipVisionConfig } from '../models/clip/config.js';
import { type ClipSessionOptions, createSession, sessionOptions } from '../models/clip/session.js';
import { addClipVisionTower, VISION_INPUT } from '../models/clip/vision-graph.js';
import { WeightReader } from '../models/clip/weights.js';
import { addGradients } from './autodiff.js';
import { LoraGraph, type LoraModule, type LoraSpec } from './lora.js';
import { crossEntropy, entropyLoss, fisherExpectedLogLikelihood, logLikelihood, zeroShotLogits } from './losses.js';

/** 'fisher': fusion_bench's Σ √p.detach() · log p (rows weighted 1); see losses.ts. */
export type VisionLoss = 'cross_entropy' | 'entropy' | 'log_likelihood' | 'fisher';

export interface VisionGradOptions extends Pick<ClipSessionOptions, 'threads' | 'executionProviders' | 'ortOptions' | 'prefix' | 'source'> {
  readonly loss: VisionLoss;
  /** The most images per run (the graph has static shapes; smaller batches are padded with rows of weight 0). */
  readonly batch: number;
  /** visual_projection.weight [projection_dim, hidden] (not trained). */
  readonly projection: Float32Array;
  /** The most classes a head fed to run() has. */
  readonly classes: number;
  /** The CLIP model's logit_scale (before exp). */
  readonly logitScale: number;
  /** Which checkpoint tensors get gradients (default: all the tower uses; none with `lora`). */
  readonly trainable?: (key: string) => boolean;
  /** LoRA on these modules: the factors (and dropout masks) become inputs, and only the factors get gradients. */
  readonly lora?: { readonly spec: LoraSpec; readonly modules: readonly LoraModule[] };
}

export interface GradResult {
  readonly loss: number;
  /** [batch, classes of the head] */
  readonly logits: Float32Array;
  /** key → d loss / d tensor, for the trainable tensors. */
  readonly grads: ReadonlyMap<string, Float32Array>;
}

const LOSS = 'loss';
const LOGITS = 'logits';
const LABELS = 'labels_onehot';
const HEAD = 'zeroshot_weights';
const CLASS_MASK = 'class_mask';
const ROW_WEIGHTS = 'row_weights';
/** Added to the logits of padding classes: exp(−1e4 − max) is 0 in float32, and 0 · log-softmax stays finite. */
const PAD_LOGIT = -1e4;
const gradName = (key: string) => `grad:${key}`;

/** The ONNX model: tower + head + loss + gradients, and the tensors it takes. */
export function buildClipVisionGradGraph(cfg: ClipVisionConfig, sd: StateDict, opts: VisionGradOptions): { model: Uint8Array; keys: Map<string, readonly number[]>; trainable: string[]; dim: number; lora: LoraGraph | null } {
  const g = new GraphBuilder('clip_vision_grad');
  const w = new WeightReader(sd, opts.source ?? 'vision checkpoint', true);
  let lora: LoraGraph | null = null;
  if (opts.lora) {
    const tokens = (cfg.imageSize / cfg.patchSize) ** 2 + 1;
    // addClipVisionTower computes the last layer for the CLS row only, except its keys and values.
    const last = `${opts.prefix ?? 'vision_model'}.encoder.layers.${cfg.numHiddenLayers - 1}.`;
    const clsOnly = (key: string) => key.startsWith(last) && !/\.(k|v)_proj$/.test(key);
    lora = new LoraGraph(opts.lora.spec, opts.lora.modules, (m) => (clsOnly(m.key) ? opts.batch : opts.batch * tokens));
    w.linearAdapter = lora.adapter;
  }
  const tower = addClipVisionTower(g, w, cfg, { attention: 'plain', projection: opts.projection, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
  const dim = opts.projection.length / cfg.hiddenSize;
  const classes = opts.classes;
  const head = g.input(HEAD, DataType.FLOAT, [classes, dim]);
  const mask = g.input(CLASS_MASK, DataType.FLOAT, [classes]);
  const logits = g.node('Add', [zeroShotLogits(g, tower.embeds!, head, opts.logitScale), mask]);
  const rows = g.input(ROW_WEIGHTS, DataType.FLOAT, [opts.batch]);
  let loss: string;
  const stopGradient: string[] = [];
  if (opts.loss === 'entropy') loss = entropyLoss(g, logits, rows);
  else if (opts.loss === 'fisher') {
    const f = fisherExpectedLogLikelihood(g, logits, rows);
    loss = f.loss;
    stopGradient.push(f.detached);
  } else {
    const onehot = g.input(LABELS, DataType.FLOAT, [opts.batch, classes]);
    loss = opts.loss === 'cross_entropy' ? crossEntropy(g, logits, onehot, rows) : logLikelihood(g, logits, onehot, rows);
  }
  const keys = new Map([...w.inputKeys(), ...(lora?.inputs ?? [])]);
  const trainable = lora ? lora.params() : [...keys.keys()].filter((k) => opts.trainable?.(k) ?? true);
  const { grads } = addGradients(g, {
    loss,
    wrt: trainable,
    inputDims: { [VISION_INPUT]: [opts.batch, cfg.numChannels, cfg.imageSize, cfg.imageSize] },
    stopGradient,
  });
  g.output(loss, LOSS, DataType.FLOAT, []);
  g.output(logits, LOGITS, DataType.FLOAT, [opts.batch, classes]);
  for (const k of trainable) g.output(grads.get(k)!, gradName(k), DataType.FLOAT, keys.get(k)!);
  return { model: g.build(), keys, trainable, dim, lora };
}

export class ClipVisionGradSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly config: ClipVisionConfig,
    readonly batch: number,
    readonly classes: number,
    /** Embedding width of the heads. */
    readonly dim: number,
    /** Every checkpoint tensor the graph takes, with its shape. */
    readonly keys: ReadonlyMap<string, readonly number[]>,
    readonly trainable: readonly string[],
    private readonly loss: VisionLoss,
    /** The LoRA terms (for their dropout masks), when built with `lora`. */
    readonly lora: LoraGraph | null = null,
  ) {}

  static async create(cfg: ClipVisionConfig, sd: StateDict, opts: VisionGradOptions): Promise<ClipVisionGradSession> {
    const built = buildClipVisionGradGraph(cfg, sd, opts);
    const session = await createSession(built.model, sessionOptions(opts));
    return new ClipVisionGradSession(session, cfg, opts.batch, opts.classes, built.dim, built.keys, built.trainable, opts.loss, built.lora);
  }

  /**
   * One forward + backward pass over 1 to `batch` images (`pixels` holds their values). `weight(key)`
   * gives the current value of each checkpoint tensor, `head` the zero-shot head (L2-normalised rows
   * [classes, dim], at most the session's classes); `labels` (class indices) are needed by the
   * cross-entropy and log-likelihood losses. Means (cross-entropy, entropy) are over the given images.
   */
  async run(weight: (key: string) => Float32Array, pixels: Float32Array, head: Float32Array, labels?: ArrayLike<number>): Promise<GradResult> {
    const c = this.config;
    const per = c.numChannels * c.imageSize * c.imageSize;
    const count = pixels.length / per;
    if (!Number.isInteger(count) || count < 1 || count > this.batch) {
      throw new UserError(`gradient step: ${pixels.length} pixel values, expected 1 to ${this.batch} images × ${per}`);
    }
    let batchPixels = pixels;
    if (count < this.batch) {
      batchPixels = new Float32Array(this.batch * per);
      batchPixels.set(pixels);
    }
    const summed = this.loss === 'log_likelihood' || this.loss === 'fisher';
    const rowWeights = new Float32Array(this.batch).fill(summed ? 1 : Math.fround(1 / count), 0, count);
    const classes = head.length / this.dim;
    if (!Number.isInteger(classes) || classes < 1 || classes > this.classes) {
      throw new UserError(`gradient step: the zero-shot head has ${head.length} values; expected [classes ≤ ${this.classes}, ${this.dim}]`);
    }
    const padded = new Float32Array(this.classes * this.dim);
    padded.set(head);
    const mask = new Float32Array(this.classes).fill(PAD_LOGIT, classes);
    const feeds: Record<string, ort.Tensor> = {
      [VISION_INPUT]: new ort.Tensor('float32', batchPixels, [this.batch, c.numChannels, c.imageSize, c.imageSize]),
      [ROW_WEIGHTS]: new ort.Tensor('float32', rowWeights, [this.batch]),
      [HEAD]: new ort.Tensor('float32', padded, [this.classes, this.dim]),
      [CLASS_MASK]: new ort.Tensor('float32', mask, [this.classes]),
    };
    for (const [k, dims] of this.keys) feeds[k] = new ort.Tensor('float32', weight(k), [...dims]);
    if (this.loss === 'cross_entropy' || this.loss === 'log_likelihood') {
      if (!labels || labels.length !== count) throw new UserError(`gradient step: ${labels?.length ?? 0} labels for ${count} images`);
      const onehot = new Float32Array(this.batch * this.classes);
      for (let i = 0; i < count; i++) {
        const y = labels[i]!;
        if (!Number.isInteger(y) || y < 0 || y >= classes) throw new UserError(`gradient step: label ${y} is not a class index below ${classes}`);
        onehot[i * this.classes + y] = 1;
      }
      feeds[LABELS] = new ort.Tensor('float32', onehot, [this.batch, this.classes]);
    }
    const r = await this.session.run(feeds);
    const grads = new Map<string, Float32Array>();
    for (const k of this.trainable) grads.set(k, r[gradName(k)]!.data as Float32Array);
    const all = r[LOGITS]!.data as Float32Array;
    const logits = new Float32Array(count * classes);
    for (let i = 0; i < count; i++) logits.set(all.subarray(i * this.classes, i * this.classes + classes), i * classes);
    return { loss: Number(r[LOSS]!.data[0]), logits, grads };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
