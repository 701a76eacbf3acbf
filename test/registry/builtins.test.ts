/** The built-in registry: fusion_bench's names resolve, and transformers-style targets load our own model types. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { instantiate } from '../../src/registry/instantiate.js';
import { METHODS } from '../../src/method/index.js';
import { repoRoot } from '../helpers/paths.js';
import type { Model } from '../../src/modelpool/index.js';

const tinyClip = join(repoRoot, 'demo', 'models', 'tiny-clip');

test('every method and pool name fusion_bench exports is registered, with short aliases', () => {
  const r = createBuiltinRegistry();
  for (const n of Object.keys(METHODS)) assert.ok(r.has(n), n);
  for (const n of ['fusion_bench.programs.FabricModelFusionProgram', 'fusion_bench.modelpool.CLIPVisionModelPool', 'fusion_bench.taskpool.CLIPVisionModelTaskPool',
    'fusion_bench.taskpool.DummyTaskPool', 'datasets.load_dataset', 'fusion_bench.utils.data.train_validation_split', 'TaskArithmeticAlgorithm',
    'transformers.CLIPProcessor.from_pretrained', 'transformers.CLIPModel.from_pretrained', 'transformers.CLIPVisionModel.from_pretrained']) {
    assert.ok(r.has(n), n);
  }
});

test('transformers.*.from_pretrained targets load a vision tower, a full CLIP model and a processor', async () => {
  const r = createBuiltinRegistry();
  const vision = (await instantiate(r, { _target_: 'transformers.CLIPVisionModel.from_pretrained', pretrained_model_name_or_path: tinyClip })) as Model;
  assert.ok(vision.stateDict.names().length > 0);
  assert.ok(vision.stateDict.names().every((n) => n.startsWith('vision_model.')));
  const clip = (await instantiate(r, { _target_: 'transformers.CLIPModel.from_pretrained', _args_: [tinyClip] })) as Model;
  assert.ok(clip.stateDict.has('text_projection.weight') && clip.stateDict.has('logit_scale'));
  const proc = (await instantiate(r, { _target_: 'transformers.CLIPProcessor.from_pretrained', pretrained_model_name_or_path: tinyClip })) as { tokenizer: { encode(t: string): number[] } };
  assert.ok(proc.tokenizer.encode('a photo').length > 2);
  await assert.rejects(instantiate(r, { _target_: 'transformers.CLIPModel.from_pretrained' }), /pretrained_model_name_or_path/);
});
