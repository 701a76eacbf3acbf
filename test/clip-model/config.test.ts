import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsShared, sharedPath } from '../helpers/paths.js';
import { UserError } from '../../src/errors.js';
import { clipTextConfigFrom, clipVisionConfigFrom, readClipConfig } from '../../src/models/clip/config.js';

test('an empty CLIPModel config gets transformers defaults (openai/clip-vit-base-patch32 shapes)', () => {
  const c = readClipConfig({ model_type: 'clip' });
  assert.equal(c.projectionDim, 512);
  assert.equal(c.logitScaleInitValue, 2.6592);
  assert.deepEqual(c.vision, {
    hiddenSize: 768, intermediateSize: 3072, projectionDim: 512, numHiddenLayers: 12, numAttentionHeads: 12,
    hiddenAct: 'quick_gelu', layerNormEps: 1e-5, numChannels: 3, imageSize: 224, patchSize: 32,
  });
  assert.deepEqual(c.text, {
    hiddenSize: 512, intermediateSize: 2048, projectionDim: 512, numHiddenLayers: 12, numAttentionHeads: 8,
    hiddenAct: 'quick_gelu', layerNormEps: 1e-5, vocabSize: 49408, maxPositionEmbeddings: 77,
    padTokenId: 1, bosTokenId: 49406, eosTokenId: 49407,
  });
});

test('given fields win over defaults; a legacy *_config_dict wins over *_config', () => {
  const c = readClipConfig({
    model_type: 'clip',
    projection_dim: 768,
    text_config: { hidden_size: 768, eos_token_id: 2, num_attention_heads: 12 },
    text_config_dict: { hidden_size: 1024, num_attention_heads: 16, hidden_act: 'gelu' },
    vision_config: { patch_size: 14, image_size: 336, layer_norm_eps: 1e-6 },
  });
  assert.equal(c.projectionDim, 768);
  assert.equal(c.text!.hiddenSize, 1024);
  assert.equal(c.text!.numAttentionHeads, 16);
  assert.equal(c.text!.hiddenAct, 'gelu');
  assert.equal(c.text!.eosTokenId, 2);
  assert.equal(c.vision!.patchSize, 14);
  assert.equal(c.vision!.imageSize, 336);
  assert.equal(c.vision!.layerNormEps, 1e-6);
});

test('vision-only and text-only configs, and the vision tower of a CLIPModel config', () => {
  const v = readClipConfig({ model_type: 'clip_vision_model', hidden_size: 32, num_attention_heads: 4, projection_dim: 16 });
  assert.equal(v.text, undefined);
  assert.equal(v.vision!.hiddenSize, 32);
  assert.equal(v.projectionDim, 16);
  assert.equal(clipVisionConfigFrom({ model_type: 'clip', vision_config: { image_size: 64, patch_size: 16 } }).imageSize, 64);
  assert.equal(clipTextConfigFrom({ model_type: 'clip_text_model', vocab_size: 1000 }).vocabSize, 1000);
  assert.throws(() => clipVisionConfigFrom({ model_type: 'clip_text_model' }), UserError);
});

test('bad configs are UserErrors naming the file and key', () => {
  const bad: [unknown, RegExp][] = [
    [[1, 2], /cfg\.json: expected a JSON object/],
    [{ model_type: 'bert' }, /model_type "bert" is not a CLIP model/],
    [{ model_type: 'clip', vision_config: { hidden_size: '768' } }, /cfg\.json vision_config: "hidden_size" must be an integer/],
    [{ model_type: 'clip', text_config: { hidden_size: 100, num_attention_heads: 8 } }, /not divisible by num_attention_heads/],
    [{ model_type: 'clip', vision_config: { image_size: 100 } }, /image_size 100 is not a multiple of patch_size 32/],
    [{ model_type: 'clip', vision_config: { hidden_act: 'swish' } }, /"hidden_act" must be one of/],
    [{ model_type: 'clip', vision_config: { layer_norm_eps: 0 } }, /"layer_norm_eps" must be a positive number/],
    [{ model_type: 'clip', text_config: 3 }, /"text_config" must be an object/],
  ];
  for (const [json, msg] of bad) assert.throws(() => readClipConfig(json, 'cfg.json'), (e: unknown) => e instanceof UserError && msg.test(e.message));
});

test('fixture configs: omitted fields take the defaults (tiny-clip, tiny-clip-bpe, ft-a)', needsShared(), () => {
  const read = (name: string) => JSON.parse(readFileSync(join(sharedPath('fixtures', 'clip', 'models', name), 'config.json'), 'utf8'));
  const tiny = readClipConfig(read('tiny-clip'));
  assert.equal(tiny.projectionDim, 16);
  assert.equal(tiny.text!.vocabSize, 1000);
  assert.equal(tiny.text!.eosTokenId, 2);
  assert.equal(tiny.text!.maxPositionEmbeddings, 77);
  assert.equal(tiny.text!.hiddenAct, 'quick_gelu');
  assert.equal(tiny.vision!.imageSize, 32);
  assert.equal(tiny.vision!.patchSize, 8);
  assert.equal(readClipConfig(read('tiny-clip-bpe')).text!.vocabSize, 49408);
  const ft = clipVisionConfigFrom(read('tiny-clip-ft-a'));
  assert.deepEqual(ft, tiny.vision);
});
