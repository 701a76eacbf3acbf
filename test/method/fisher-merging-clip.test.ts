/**
 * Fisher merging on the demo's tiny CLIP towers (their MNIST / Fashion-MNIST slices serve as train sets):
 * with one batch covering the whole data set (so shuffling cannot matter) the merged tower equals a
 * float64 evaluation of fusion_bench's formulas over the squared gradients; excluded parameters keep the
 * pretrained values; batches overshoot num_fisher_examples as fusion_bench's loop does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { ClipVisionGradSession } from '../../src/grad/clip-vision-grad.js';
import { ClipTaskData } from '../../src/method/gradient/clip-tasks.js';
import { FisherMergingForCLIPVisionModel } from '../../src/method/gradient/fisher-merging-clip.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { clipVisionParameterNames } from '../../src/models/clip/parameters.js';
import { demoDataset, demoPool as pool0 } from './demo-pool.js';

const dataset = (name: string) => demoDataset(name, 'train');
const TASKS = ['mnist', 'fashion_mnist'];
const demoPool = (train: Record<string, unknown> = { mnist: dataset('mnist'), fashion_mnist: dataset('fashion_mnist') }) => pool0({ train_datasets: train });

test('Fisher merging of the demo towers = float64 evaluation of the Fisher-weighted average (whole data set in one batch)', async () => {
  const exclude = ['vision_model\\.embeddings'];
  const alg = new FisherMergingForCLIPVisionModel({ num_fisher_examples: 500, dataloader_kwargs: { batch_size: 500 }, exclude_param_names_regex: exclude, minimal_fisher_weight: 1e-6 });
  const pool = demoPool();
  const merged = await alg.run(pool);
  assert.deepEqual(alg.examples, { mnist: 500, fashion_mnist: 500 });

  // Reference: squared gradients of Σ √p.detach()·log p over all 500 images, per model.
  const models = await Promise.all(['_pretrained_', ...TASKS].map((n) => pool.loadModel(n)));
  const cfg = clipVisionConfigFrom(models[0]!.config!);
  const names = clipVisionParameterNames(cfg);
  const ctx = await ClipTaskData.open(pool, 'test');
  const heads = await ctx.heads(TASKS);
  const session = await ClipVisionGradSession.create(cfg, models[0]!.stateDict, { loss: 'fisher', batch: 500, projection: ctx.clip.visualProjection().data, classes: 10, logitScale: ctx.clip.logitScale(), threads: 1 });
  const fishers: Map<string, Float64Array>[] = [];
  for (const [i, t] of TASKS.entries()) {
    const pixels = (await (await ctx.batches('train_datasets', t, 500, 99)).nextBatch()).pixels;
    const r = await session.run((k) => models[i + 1]!.stateDict.loadF32(k), pixels, heads.get(t)!.weights);
    fishers.push(new Map([...r.grads].map(([k, g]) => [k, Float64Array.from(g, (x) => (x * x) / 500)])));
  }
  await session.dispose();
  ctx.close();
  const kept = names.filter((n) => !n.startsWith('vision_model.embeddings'));
  const norms = fishers.map((F) => Math.sqrt(kept.reduce((s, k) => s + F.get(k)!.reduce((a, v) => a + v * v, 0), 0)));
  const inv = norms.map((x) => 1 / (x + 1e-6));
  const coef = inv.map((x) => 0.5 * (x / (inv[0]! + inv[1]!)));
  for (const name of names) {
    const got = merged.stateDict.loadF32(name);
    if (!kept.includes(name)) {
      assert.deepEqual(got, models[0]!.stateDict.loadF32(name), `${name} is excluded: pretrained values`);
      continue;
    }
    const thetas = TASKS.map((_, i) => models[i + 1]!.stateDict.loadF32(name));
    for (let e = 0; e < got.length; e++) {
      let num = 0;
      let den = 0;
      for (let i = 0; i < 2; i++) {
        const w = coef[i]! * (fishers[i]!.get(name)![e]! + 1e-6);
        num += w * thetas[i]![e]!;
        den += w;
      }
      const want = num / den;
      assert.ok(Math.abs(got[e]! - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${name}[${e}]: ${got[e]} vs ${want}`);
    }
  }
  merged.stateDict.close?.();
  for (const m of models) m.stateDict.close?.();
});

test('Fisher merging takes batches until num_fisher_examples is reached (overshooting as fusion_bench) and needs each task\'s train set', async () => {
  const alg = new FisherMergingForCLIPVisionModel({ num_fisher_examples: 70, dataloader_kwargs: { batch_size: 32 } });
  const merged = await alg.run(demoPool());
  assert.deepEqual(alg.examples, { mnist: 96, fashion_mnist: 96 });
  merged.stateDict.close?.();
  await assert.rejects(new FisherMergingForCLIPVisionModel({}).run(demoPool({ mnist: dataset('mnist') })), (e: unknown) => e instanceof UserError && /no train_datasets entry for task 'fashion_mnist'/.test(e.message));
  assert.throws(() => new FisherMergingForCLIPVisionModel({ exclude_param_names_regex: ['('] }), /not a valid regular expression/);
});
