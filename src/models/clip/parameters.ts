/**
 * The parameters of transformers' CLIPVisionModel in `named_parameters()` order (module registration
 * order): what fusion_bench counts as "layers" when it gives each parameter tensor its own merging
 * weight (LayerWiseMergedModel's [num_models, num_layers]).
 */
import type { ClipVisionConfig } from './config.js';

export function clipVisionParameterNames(cfg: Pick<ClipVisionConfig, 'numHiddenLayers'>, prefix = 'vision_model'): string[] {
  const names = [
    'embeddings.class_embedding',
    'embeddings.patch_embedding.weight',
    'embeddings.position_embedding.weight',
    'pre_layrnorm.weight',
    'pre_layrnorm.bias',
  ];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `encoder.layers.${l}.`;
    for (const proj of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) names.push(`${p}self_attn.${proj}.weight`, `${p}self_attn.${proj}.bias`);
    names.push(`${p}layer_norm1.weight`, `${p}layer_norm1.bias`, `${p}mlp.fc1.weight`, `${p}mlp.fc1.bias`, `${p}mlp.fc2.weight`, `${p}mlp.fc2.bias`, `${p}layer_norm2.weight`, `${p}layer_norm2.bias`);
  }
  names.push('post_layernorm.weight', 'post_layernorm.bias');
  return names.map((n) => `${prefix}.${n}`);
}
