/**
 * Seeded random CLIP checkpoints with the Hugging Face tensor names and shapes, for benchmarks and tests
 * that must run without downloaded weights. Values are uniform with the spread of CLIP's initialisers
 * (LayerNorms at weight 1, bias 0), enough to keep activations in a realistic range.
 */
import type { StateDict } from '../../tensor/types.js';
import { stateDictFromArrays } from '../../tensor/memory-state-dict.js';
import type { ClipTextConfig, ClipVisionConfig } from './config.js';
import { mulberry32 } from '../../util/prng.js';


type Entries = Record<string, { shape: readonly number[]; data: Float32Array }>;

function layers(out: Entries, prefix: string, c: ClipVisionConfig | ClipTextConfig, uniform: (shape: number[], std: number) => { shape: number[]; data: Float32Array }): void {
  const d = c.hiddenSize;
  const m = c.intermediateSize;
  const ones = (n: number) => ({ shape: [n], data: new Float32Array(n).fill(1) });
  const zeros = (n: number) => ({ shape: [n], data: new Float32Array(n) });
  const inStd = d ** -0.5 * (2 * c.numHiddenLayers) ** -0.5;
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `${prefix}.encoder.layers.${i}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      out[`${p}.self_attn.${proj}.weight`] = uniform([d, d], proj === 'out_proj' ? d ** -0.5 : inStd);
      out[`${p}.self_attn.${proj}.bias`] = uniform([d], 0.02);
    }
    out[`${p}.layer_norm1.weight`] = ones(d);
    out[`${p}.layer_norm1.bias`] = zeros(d);
    out[`${p}.layer_norm2.weight`] = ones(d);
    out[`${p}.layer_norm2.bias`] = zeros(d);
    out[`${p}.mlp.fc1.weight`] = uniform([m, d], (2 * d) ** -0.5);
    out[`${p}.mlp.fc1.bias`] = uniform([m], 0.02);
    out[`${p}.mlp.fc2.weight`] = uniform([d, m], inStd);
    out[`${p}.mlp.fc2.bias`] = uniform([d], 0.02);
  }
}

/** A CLIPModel-style state dict (vision_model.*, text_model.*, projections, logit_scale) for the towers given. */
export function randomClipStateDict(cfg: { vision?: ClipVisionConfig; text?: ClipTextConfig; projectionDim?: number }, seed = 0): StateDict {
  const next = mulberry32(seed);
  const uniform = (shape: number[], std: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) data[i] = (next() * 2 - 1) * a;
    return { shape, data };
  };
  const out: Entries = {};
  const proj = cfg.projectionDim ?? 512;
  const ln = (prefix: string, d: number) => {
    out[`${prefix}.weight`] = { shape: [d], data: new Float32Array(d).fill(1) };
    out[`${prefix}.bias`] = { shape: [d], data: new Float32Array(d) };
  };
  if (cfg.vision) {
    const v = cfg.vision;
    const d = v.hiddenSize;
    const tokens = (v.imageSize / v.patchSize) ** 2 + 1;
    out['vision_model.embeddings.class_embedding'] = uniform([d], d ** -0.5);
    out['vision_model.embeddings.patch_embedding.weight'] = uniform([d, v.numChannels, v.patchSize, v.patchSize], 0.02);
    out['vision_model.embeddings.position_embedding.weight'] = uniform([tokens, d], 0.02);
    ln('vision_model.pre_layrnorm', d);
    layers(out, 'vision_model', v, uniform);
    ln('vision_model.post_layernorm', d);
    out['visual_projection.weight'] = uniform([proj, d], d ** -0.5);
  }
  if (cfg.text) {
    const t = cfg.text;
    const d = t.hiddenSize;
    out['text_model.embeddings.token_embedding.weight'] = uniform([t.vocabSize, d], 0.02);
    out['text_model.embeddings.position_embedding.weight'] = uniform([t.maxPositionEmbeddings, d], 0.01);
    layers(out, 'text_model', t, uniform);
    ln('text_model.final_layer_norm', d);
    out['text_projection.weight'] = uniform([proj, d], d ** -0.5);
  }
  out['logit_scale'] = { shape: [], data: Float32Array.of(Math.log(1 / 0.07)) };
  return stateDictFromArrays(out);
}
