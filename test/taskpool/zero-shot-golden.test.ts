/**
 * The zero-shot head and logits against fusion_bench's (transformers 4.45, float32) for the tiny BPE CLIP:
 * MNIST's class names and template through the pretrained text tower, then four vision towers projected
 * with the pretrained visual_projection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsShared } from '../helpers/paths.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { ClipVisionSession } from '../../src/models/clip/session.js';
import { CLIPTokenizer } from '../../src/models/clip/tokenizer.js';
import { getClassnamesAndTemplates } from '../../src/tasks/clip-classification/index.js';
import { PretrainedClip } from '../../src/taskpool/clip-vision/pretrained-clip.js';
import { computeZeroShotHead, zeroShotLogits } from '../../src/taskpool/clip-vision/zero-shot-head.js';
import { assertRelClose, fixtureModel, golden, openModel, VISION_TOWERS, ZS } from './support.js';

test('zero-shot head and logits match fusion_bench for the four vision towers', needsShared(), async () => {
  const clip = await PretrainedClip.open(fixtureModel('tiny-clip-bpe'));
  const text = await clip.textSession();
  const head = await computeZeroShotHead(text, CLIPTokenizer.fromDir(clip.dir), await getClassnamesAndTemplates('mnist')).finally(() => text.dispose());
  assert.equal(head.numClasses, 10);
  assert.equal(head.dim, 16);
  assertRelClose(head.weights, golden(ZS, 'zeroshot_weights'), 1e-5, 'zeroshot_weights');
  assert.equal(clip.logitScale(), golden(ZS, 'logit_scale')[0]);

  const pixels = golden('preprocess/tiny32', 'pixel_values');
  for (const [tower, dir] of Object.entries(VISION_TOWERS)) {
    const model = openModel(dir());
    const s = await ClipVisionSession.create(clipVisionConfigFrom(model.config), model.stateDict, { projection: clip.visualProjection().data });
    try {
      const out = await s.run(pixels, 3);
      const logits = zeroShotLogits(out.embeds!, head, clip.logitScale());
      assertRelClose(logits, golden(ZS, `zeroshot_logits_${tower}`), 1e-5, `zeroshot_logits_${tower}`);
    } finally {
      await s.dispose();
      model.stateDict.close?.();
    }
  }
  clip.close();
});
