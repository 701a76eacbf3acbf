/**
 * The vision tower's config.json as a CLIPVisionModel has it: from a CLIPModel file its `vision_config`
 * (what CLIPVisionConfig.from_pretrained reads), from a CLIPVisionModel file the file itself; with
 * transformers' CLIPVisionConfig defaults filled in, so the JSON is complete on its own.
 */
import { UserError } from '../errors.js';
import { clipVisionConfigFrom } from '../models/clip/config.js';
import type { ModelConfig } from './model.js';

/** Keys whose values are floats in Python (for writing `1.0`, `1e-05`). */
export const CLIP_FLOAT_KEYS: ReadonlySet<string> = new Set([
  'layer_norm_eps', 'attention_dropout', 'dropout', 'initializer_range', 'initializer_factor', 'logit_scale_init_value',
]);

/** CLIPVisionConfig fields that the typed CLIP config does not carry. */
const OTHER_DEFAULTS: Readonly<Record<string, unknown>> = { attention_dropout: 0.0, initializer_range: 0.02, initializer_factor: 1.0 };

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Extracts and completes the vision config from a parsed CLIP config.json. */
export function visionConfigJson(json: ModelConfig, source: string): ModelConfig {
  const modelType = json.model_type ?? 'clip';
  let raw: Record<string, unknown>;
  if (modelType === 'clip_vision_model') {
    raw = { ...json };
  } else if (modelType === 'clip') {
    // A legacy `vision_config_dict` wins over `vision_config`, as in transformers' CLIPConfig.
    const plain = isDict(json.vision_config) ? json.vision_config : {};
    raw = isDict(json.vision_config_dict) ? { ...plain, ...json.vision_config_dict } : { ...plain };
    for (const k of ['torch_dtype', 'transformers_version']) if (raw[k] === undefined && json[k] !== undefined) raw[k] = json[k];
  } else {
    throw new UserError(`${source}: model_type ${JSON.stringify(modelType)} is not a CLIP model (expected clip or clip_vision_model)`);
  }
  delete raw.architectures;
  const typed = clipVisionConfigFrom({ ...raw, model_type: 'clip_vision_model' }, source);
  return {
    ...OTHER_DEFAULTS,
    ...raw,
    model_type: 'clip_vision_model',
    hidden_size: typed.hiddenSize,
    intermediate_size: typed.intermediateSize,
    projection_dim: typed.projectionDim,
    num_hidden_layers: typed.numHiddenLayers,
    num_attention_heads: typed.numAttentionHeads,
    num_channels: typed.numChannels,
    image_size: typed.imageSize,
    patch_size: typed.patchSize,
    hidden_act: typed.hiddenAct,
    layer_norm_eps: typed.layerNormEps,
  };
}
