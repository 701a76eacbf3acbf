/**
 * Seeded random CLIP vision towers with the real tensor names and shapes of transformers'
 * `CLIPVisionModel` (as in fusion_bench's `clip-vit-base-patch32_<task>` checkpoints), for benchmarks.
 * Defaults are ViT-B/32: 12 layers, hidden 768, MLP 3072, patch 32, image 224 → 50 tokens, 87.5M params.
 *
 * Every tensor is generated from (seed, name) alone, lazily, so a model of any size streams to disk with
 * one tensor in memory, and the same options always give the same bytes.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { numel } from '../../src/tensor/dtype.js';
import { writeSafetensorsSync, type WrittenCheckpoint } from '../../src/tensor/safetensors-write.js';
import type { DType, StateDict, TensorInfo } from '../../src/tensor/types.js';

export interface RandomClipVisionOptions {
  layers?: number;
  hidden?: number;
  mlp?: number;
  heads?: number;
  patch?: number;
  image?: number;
  channels?: number;
  projectionDim?: number;
  seed?: number;
  /**
   * A "fine-tuned" model: the weights of `base.seed` plus noise of `base.noise` × the init scale, like
   * fusion_bench's task models around one pretrained model.
   */
  base?: { seed: number; noise: number };
  /** Stored dtype (default F32). */
  dtype?: DType;
  maxShardBytes?: number;
}

type Kind = 'weight' | 'bias' | 'norm_weight' | 'norm_bias' | 'embedding';
interface Spec extends TensorInfo {
  readonly kind: Kind;
}

function resolved(o: RandomClipVisionOptions) {
  return {
    layers: o.layers ?? 12, hidden: o.hidden ?? 768, mlp: o.mlp ?? 3072, heads: o.heads ?? 12, patch: o.patch ?? 32,
    image: o.image ?? 224, channels: o.channels ?? 3, projectionDim: o.projectionDim ?? 512, seed: o.seed ?? 0,
    dtype: o.dtype ?? ('F32' as DType),
  };
}

/** Names and shapes in transformers' `CLIPVisionModel.state_dict()` order. */
export function clipVisionTensorSpecs(opts: RandomClipVisionOptions = {}): Map<string, Spec> {
  const { layers, hidden: h, mlp, patch, image, channels, dtype } = resolved(opts);
  const tokens = (image / patch) ** 2 + 1;
  const specs = new Map<string, Spec>();
  const add = (name: string, shape: number[], kind: Kind) => specs.set(`vision_model.${name}`, { dtype, shape, kind });
  add('embeddings.class_embedding', [h], 'embedding');
  add('embeddings.patch_embedding.weight', [h, channels, patch, patch], 'weight');
  add('embeddings.position_embedding.weight', [tokens, h], 'embedding');
  add('pre_layrnorm.weight', [h], 'norm_weight');
  add('pre_layrnorm.bias', [h], 'norm_bias');
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layers.${l}.`;
    for (const proj of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) {
      add(`${p}self_attn.${proj}.weight`, [h, h], 'weight');
      add(`${p}self_attn.${proj}.bias`, [h], 'bias');
    }
    add(`${p}layer_norm1.weight`, [h], 'norm_weight');
    add(`${p}layer_norm1.bias`, [h], 'norm_bias');
    add(`${p}mlp.fc1.weight`, [mlp, h], 'weight');
    add(`${p}mlp.fc1.bias`, [mlp], 'bias');
    add(`${p}mlp.fc2.weight`, [h, mlp], 'weight');
    add(`${p}mlp.fc2.bias`, [h], 'bias');
    add(`${p}layer_norm2.weight`, [h], 'norm_weight');
    add(`${p}layer_norm2.bias`, [h], 'norm_bias');
  }
  add('post_layernorm.weight', [h], 'norm_weight');
  add('post_layernorm.bias', [h], 'norm_bias');
  return specs;
}

/** FNV-1a of the name mixed with the seed: each tensor's own PRNG stream. */
function streamSeed(seed: number, name: string): number {
  let x = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < name.length; i++) x = Math.imul(x ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return x || 1;
}

/** Adds `scale` × uniform noise of unit variance (xorshift32) to `out`. */
function addNoise(out: Float32Array, seed: number, scale: number): void {
  let s = seed >>> 0 || 1;
  const a = scale * Math.sqrt(3) * 2 / 4294967296; // uniform on [-scale·√3, scale·√3): variance scale²
  const c = scale * Math.sqrt(3);
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] += (s >>> 0) * a - c;
  }
}

const INIT_STD = 0.02;

/** A lazy, deterministic random CLIP vision state dict. */
export class RandomClipVisionStateDict implements StateDict {
  private readonly specs: Map<string, Spec>;
  private readonly order: readonly string[];
  constructor(private readonly opts: RandomClipVisionOptions = {}) {
    this.specs = clipVisionTensorSpecs(opts);
    this.order = [...this.specs.keys()];
  }
  names(): readonly string[] {
    return this.order;
  }
  has(name: string): boolean {
    return this.specs.has(name);
  }
  info(name: string): TensorInfo {
    const s = this.spec(name);
    return { dtype: s.dtype, shape: s.shape };
  }
  loadF32(name: string): Float32Array {
    const s = this.spec(name);
    const out = new Float32Array(numel(s.shape));
    if (s.kind === 'norm_weight') out.fill(1);
    const seed = this.opts.base?.seed ?? resolved(this.opts).seed;
    addNoise(out, streamSeed(seed, name), s.kind === 'norm_weight' || s.kind === 'norm_bias' ? INIT_STD / 4 : INIT_STD);
    if (this.opts.base !== undefined) addNoise(out, streamSeed(resolved(this.opts).seed, name) ^ 0x5bd1e995, INIT_STD * this.opts.base.noise);
    return out;
  }
  paramCount(): number {
    let n = 0;
    for (const s of this.specs.values()) n += numel(s.shape);
    return n;
  }
  private spec(name: string): Spec {
    const s = this.specs.get(name);
    if (s === undefined) throw new Error(`no tensor named '${name}'`);
    return s;
  }
}

/** transformers' `CLIPVisionConfig` as `save_pretrained` writes it for a `CLIPVisionModel`. */
export function clipVisionConfig(opts: RandomClipVisionOptions = {}): Record<string, unknown> {
  const r = resolved(opts);
  return {
    architectures: ['CLIPVisionModel'],
    attention_dropout: 0.0,
    hidden_act: 'quick_gelu',
    hidden_size: r.hidden,
    image_size: r.image,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: r.mlp,
    layer_norm_eps: 1e-5,
    model_type: 'clip_vision_model',
    num_attention_heads: r.heads,
    num_channels: r.channels,
    num_hidden_layers: r.layers,
    patch_size: r.patch,
    projection_dim: r.projectionDim,
    torch_dtype: r.dtype === 'F16' ? 'float16' : r.dtype === 'BF16' ? 'bfloat16' : 'float32',
    transformers_version: '4.45.0.dev0',
  };
}

export interface RandomModelWritten extends WrittenCheckpoint {
  readonly params: number;
}

/** Writes `config.json` and `model.safetensors` (or shards) of a seeded random CLIP vision tower into `dir`. */
export function writeRandomClipVisionModel(dir: string, opts: RandomClipVisionOptions = {}): RandomModelWritten {
  const sd = new RandomClipVisionStateDict(opts);
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg + '.tmp', JSON.stringify(clipVisionConfig(opts), null, 2) + '\n');
  renameSync(cfg + '.tmp', cfg);
  const written = writeSafetensorsSync(join(dir, 'model.safetensors'), sd, opts.maxShardBytes === undefined ? {} : { maxShardBytes: opts.maxShardBytes });
  return { ...written, params: sd.paramCount() };
}
