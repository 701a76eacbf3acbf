/**
 * CLIP `config.json` files (CLIPModel, CLIPVisionModel, CLIPTextModel) read into typed configs, with the
 * defaults of transformers' CLIPTextConfig / CLIPVisionConfig / CLIPConfig filled in for omitted fields:
 * Hugging Face writes only the fields that differ from those defaults.
 */
import { UserError } from '../../errors.js';

export type ClipActivation = 'quick_gelu' | 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';
const ACTIVATIONS: readonly ClipActivation[] = ['quick_gelu', 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

interface ClipTowerConfig {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly projectionDim: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly hiddenAct: ClipActivation;
  readonly layerNormEps: number;
}

export interface ClipVisionConfig extends ClipTowerConfig {
  readonly numChannels: number;
  readonly imageSize: number;
  readonly patchSize: number;
}

export interface ClipTextConfig extends ClipTowerConfig {
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly padTokenId: number;
  readonly bosTokenId: number;
  /** 2 (the legacy value) makes the text tower pool at argmax(input_ids); otherwise at the first eos. */
  readonly eosTokenId: number;
}

export interface ClipConfig {
  /** model_type: 'clip', 'clip_vision_model' or 'clip_text_model'. */
  readonly modelType: string;
  readonly architectures: readonly string[];
  /** Absent for a text-only config. */
  readonly vision?: ClipVisionConfig;
  /** Absent for a vision-only config. */
  readonly text?: ClipTextConfig;
  /** Width of the visual/text projections in a CLIPModel (top-level `projection_dim`). */
  readonly projectionDim: number;
  readonly logitScaleInitValue: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Largest size a config may give (hidden sizes, layer counts, vocabularies): far above any CLIP, far
 * below what would overflow an allocation; `image_size` has its own, smaller bound.
 */
const MAX_DIM = 1 << 24;
const MAX_IMAGE_SIDE = 4096;

class Reader {
  constructor(private readonly obj: Json, private readonly where: string) {}

  int(key: string, dflt: number, min = 1, max = MAX_DIM): number {
    const v = Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new UserError(`${this.where}: "${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  /** Token ids may be any integer (some configs use -1 or null for "none"). */
  tokenId(key: string, dflt: number): number {
    return this.int(key, dflt, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  positive(key: string, dflt: number): number {
    const v = Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
      throw new UserError(`${this.where}: "${key}" must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  number(key: string, dflt: number): number {
    const v = Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new UserError(`${this.where}: "${key}" must be a number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  activation(key: string): ClipActivation {
    const v = Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
    if (v === undefined || v === null) return 'quick_gelu';
    if (typeof v !== 'string' || !(ACTIVATIONS as readonly string[]).includes(v)) {
      throw new UserError(`${this.where}: "${key}" must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as ClipActivation;
  }
}

function towerFields(r: Reader, d: { hidden: number; mlp: number; heads: number }, where: string): ClipTowerConfig {
  const hiddenSize = r.int('hidden_size', d.hidden);
  const numAttentionHeads = r.int('num_attention_heads', d.heads);
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new UserError(`${where}: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numAttentionHeads}`);
  }
  return {
    hiddenSize,
    intermediateSize: r.int('intermediate_size', d.mlp),
    projectionDim: r.int('projection_dim', 512),
    numHiddenLayers: r.int('num_hidden_layers', 12),
    numAttentionHeads,
    hiddenAct: r.activation('hidden_act'),
    layerNormEps: r.positive('layer_norm_eps', 1e-5),
  };
}

function visionFields(obj: Json, where: string): ClipVisionConfig {
  const r = new Reader(obj, where);
  const tower = towerFields(r, { hidden: 768, mlp: 3072, heads: 12 }, where);
  const imageSize = r.int('image_size', 224, 1, MAX_IMAGE_SIDE);
  const patchSize = r.int('patch_size', 32);
  if (imageSize % patchSize !== 0) {
    throw new UserError(`${where}: image_size ${imageSize} is not a multiple of patch_size ${patchSize}`);
  }
  return { ...tower, numChannels: r.int('num_channels', 3), imageSize, patchSize };
}

function textFields(obj: Json, where: string): ClipTextConfig {
  const r = new Reader(obj, where);
  const tower = towerFields(r, { hidden: 512, mlp: 2048, heads: 8 }, where);
  return {
    ...tower,
    vocabSize: r.int('vocab_size', 49408),
    maxPositionEmbeddings: r.int('max_position_embeddings', 77),
    padTokenId: r.tokenId('pad_token_id', 1),
    bosTokenId: r.tokenId('bos_token_id', 49406),
    eosTokenId: r.tokenId('eos_token_id', 49407),
  };
}

/**
 * The sub-config of a CLIPModel file; a legacy `*_config_dict` (older checkpoints) wins over `*_config`,
 * as in transformers' CLIPConfig.
 */
function subConfig(json: Json, key: 'text_config' | 'vision_config', where: string): Json {
  const dict = json[`${key}_dict`];
  const plain = json[key];
  for (const [k, v] of [[`${key}_dict`, dict], [key, plain]] as const) {
    if (v !== undefined && v !== null && !isObject(v)) throw new UserError(`${where}: "${k}" must be an object`);
  }
  if (isObject(dict)) return isObject(plain) ? { ...plain, ...dict } : dict;
  return isObject(plain) ? plain : {};
}

/** Parses a CLIP config.json object (already JSON-parsed). `source` names the file in error messages. */
export function readClipConfig(json: unknown, source = 'config.json'): ClipConfig {
  if (!isObject(json)) throw new UserError(`${source}: expected a JSON object`);
  const modelType = typeof json.model_type === 'string' ? json.model_type : 'clip';
  const architectures = Array.isArray(json.architectures) ? json.architectures.filter((a): a is string => typeof a === 'string') : [];
  const top = new Reader(json, source);
  if (modelType === 'clip_vision_model') {
    const vision = visionFields(json, source);
    return { modelType, architectures, vision, projectionDim: vision.projectionDim, logitScaleInitValue: 2.6592 };
  }
  if (modelType === 'clip_text_model') {
    const text = textFields(json, source);
    return { modelType, architectures, text, projectionDim: text.projectionDim, logitScaleInitValue: 2.6592 };
  }
  if (modelType !== 'clip') {
    throw new UserError(`${source}: model_type ${JSON.stringify(modelType)} is not a CLIP model (expected clip, clip_vision_model or clip_text_model)`);
  }
  return {
    modelType,
    architectures,
    vision: visionFields(subConfig(json, 'vision_config', source), `${source} vision_config`),
    text: textFields(subConfig(json, 'text_config', source), `${source} text_config`),
    projectionDim: top.int('projection_dim', 512),
    logitScaleInitValue: top.number('logit_scale_init_value', 2.6592),
  };
}

/** The vision tower's config from a CLIPModel or CLIPVisionModel config.json (what CLIPVisionConfig.from_pretrained reads). */
export function clipVisionConfigFrom(json: unknown, source = 'config.json'): ClipVisionConfig {
  const cfg = readClipConfig(json, source);
  if (!cfg.vision) throw new UserError(`${source}: a CLIP text model config has no vision tower`);
  return cfg.vision;
}

/** The text tower's config from a CLIPModel or CLIPTextModel config.json. */
export function clipTextConfigFrom(json: unknown, source = 'config.json'): ClipTextConfig {
  const cfg = readClipConfig(json, source);
  if (!cfg.text) throw new UserError(`${source}: a CLIP vision model config has no text tower`);
  return cfg.text;
}
