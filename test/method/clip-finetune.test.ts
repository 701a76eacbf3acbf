/**
 * clip_finetune on the demo's tiny CLIP model, MNIST and Fashion-MNIST slices as train sets, one batch
 * covering each data set (so shuffling cannot matter): the weights after 2 steps equal a float64 Adam +
 * cosine schedule driven by the summed per-task gradients; the saved folder is a CLIPVisionModel that
 * the pool loads and that state_dict_load_path resumes from; checkpoints every save_interval steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { ClipVisionGradSession } from '../../src/grad/clip-vision-grad.js';
import { ClipTaskData } from '../../src/method/gradient/clip-tasks.js';
import { ImageClassificationFineTuningForCLIP } from '../../src/method/gradient/clip-finetune.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { runContext } from '../../src/run-context.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { demoDataset, demoPool as pool0 } from './demo-pool.js';

const TASKS = ['mnist', 'fashion_mnist'];
const demoPool = (train: Record<string, unknown> = { mnist: demoDataset('mnist', 'train'), fashion_mnist: demoDataset('fashion_mnist', 'train') }) => pool0({ train_datasets: train });

test('2 fine-tuning steps = float64 Adam (L2 weight decay) with the cosine rate on the task-summed gradients; saved and resumed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-finetune-'));
  try {
    const lr = 2e-4;
    const wd = 0.01;
    const T = 2;
    const save = join(dir, 'out', 'model');
    const alg = new ImageClassificationFineTuningForCLIP({ learning_rate: lr, weight_decay: wd, num_steps: T, batch_size: 500, save_interval: 1, state_dict_save_path: save });
    const pool = demoPool();
    const tuned = await alg.run(pool);
    assert.equal(alg.losses.length, T);
    assert.ok(alg.losses[T - 1]! < alg.losses[0]!, `summed loss ${alg.losses.join(' → ')}`);

    // Reference: the same gradients (whole data sets, order irrelevant), Adam and the cosine rate in float64.
    const base = await pool.loadPretrainedModel();
    const cfg = clipVisionConfigFrom(base.config!);
    const ctx = await ClipTaskData.open(pool, 'test');
    const heads = await ctx.heads(TASKS);
    const data = [];
    for (const t of TASKS) data.push(await (await ctx.batches('train_datasets', t, 500, 7)).nextBatch());
    const session = await ClipVisionGradSession.create(cfg, base.stateDict, { loss: 'cross_entropy', batch: 500, projection: ctx.clip.visualProjection().data, classes: 10, logitScale: ctx.clip.logitScale(), threads: 1 });
    const keys = [...session.keys.keys()];
    const theta = new Map(keys.map((k) => [k, Float64Array.from(base.stateDict.loadF32(k))]));
    const m = new Map(keys.map((k) => [k, new Float64Array(theta.get(k)!.length)]));
    const v = new Map(keys.map((k) => [k, new Float64Array(theta.get(k)!.length)]));
    for (let t = 1; t <= T; t++) {
      const sum = new Map(keys.map((k) => [k, new Float64Array(theta.get(k)!.length)]));
      for (const [i, task] of TASKS.entries()) {
        const r = await session.run((k) => Float32Array.from(theta.get(k)!), data[i]!.pixels, heads.get(task)!.weights, data[i]!.labels);
        for (const [k, g] of r.grads) g.forEach((x, e) => (sum.get(k)![e] += x));
      }
      const rate = lr * (1 + Math.cos((Math.PI * (t - 1)) / T)) / 2;
      for (const k of keys) {
        const p = theta.get(k)!;
        p.forEach((x, e) => {
          const g = sum.get(k)![e]! + wd * x;
          m.get(k)![e] = 0.9 * m.get(k)![e]! + 0.1 * g;
          v.get(k)![e] = 0.999 * v.get(k)![e]! + 0.001 * g * g;
          p[e] = x - rate * (m.get(k)![e]! / (1 - 0.9 ** t)) / (Math.sqrt(v.get(k)![e]! / (1 - 0.999 ** t)) + 1e-8);
        });
      }
    }
    await session.dispose();
    ctx.close();
    for (const k of keys) {
      const got = tuned.stateDict.loadF32(k);
      const want = theta.get(k)!;
      // Adam's steps are ±lr-sized wherever gradients are not tiny: a float32 difference in a gradient
      // near zero can flip one; a fifth of lr still catches a wrong rate, decay or task sum.
      for (let e = 0; e < want.length; e++) assert.ok(Math.abs(got[e]! - want[e]!) <= lr / 5, `${k}[${e}]: ${got[e]} vs ${want[e]}`);
    }

    // The saved folder: a CLIPVisionModel the pool loads, float32, equal to the returned tensors.
    assert.ok(existsSync(join(save, 'config.json')) && existsSync(join(save, 'model.safetensors')));
    assert.ok(existsSync(join(dir, 'out', 'checkpoints', 'step=0', 'model.safetensors')), 'save_interval checkpoint');
    const loaded = await new CLIPVisionModelPool({ models: { tuned: save } }).loadModel('tuned');
    for (const k of keys) assert.deepEqual(loaded.stateDict.loadF32(k), tuned.stateDict.loadF32(k), k);
    assert.equal(loaded.stateDict.info(keys[0]!).dtype, 'F32');
    loaded.stateDict.close?.();
    // Resume with skip_training: the same weights, no data needed.
    const resumed = await new ImageClassificationFineTuningForCLIP({ state_dict_load_path: save, skip_training: true }).run(demoPool({}));
    for (const k of keys) assert.deepEqual(resumed.stateDict.loadF32(k), tuned.stateDict.loadF32(k), k);
    resumed.stateDict.close?.();
    tuned.stateDict.close?.();
    base.stateDict.close?.();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clip_finetune: bad options, LoRA, and a pool without train sets are UserErrors', async () => {
  assert.throws(() => new ImageClassificationFineTuningForCLIP({ learning_rate: 0 }), /'learning_rate' must be positive/);
  assert.throws(() => new ImageClassificationFineTuningForCLIP({ num_steps: 0 }), /'num_steps' must be an integer ≥ 1/);
  assert.throws(() => new ImageClassificationFineTuningForCLIP({ use_l_lora: true }), /not supported yet/);
  assert.throws(() => new ImageClassificationFineTuningForCLIP({ use_lora: true, lora_config: { r: 0, target_modules: ['q_proj'] } }), (e: unknown) => e instanceof UserError && /lora_config: 'r' must be/.test(e.message));
  await assert.rejects(new ImageClassificationFineTuningForCLIP({ num_steps: 1, use_lora: true, lora_config: { target_modules: ['nope'] } }).run(demoPool()), (e: unknown) => e instanceof UserError && /match no Linear module/.test(e.message));
  await assert.rejects(new ImageClassificationFineTuningForCLIP({ num_steps: 1 }).run(demoPool({})), (e: unknown) => e instanceof UserError && /no train_datasets/.test(e.message));
  await assert.rejects(new ImageClassificationFineTuningForCLIP({ state_dict_load_path: '/nonexistent/x', skip_training: true }).run(demoPool({})), (e: unknown) => e instanceof UserError && /no such file/.test(e.message));
});

test('LoRA fine-tuning: loss falls, only the q/v factors train, the merged model = W + (alpha/r)·B·A of the saved peft adapter, which resumes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-lora-'));
  try {
    const adapter = join(dir, 'adapter');
    const lora_config = { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], lora_dropout: 0.1, bias: 'none' };
    const alg = new ImageClassificationFineTuningForCLIP({ learning_rate: 5e-3, num_steps: 4, batch_size: 500, save_interval: 2, use_lora: true, lora_config, merge_lora: false, state_dict_save_path: adapter }, runContext({ logDir: join(dir, 'log') }));
    const pool = demoPool();
    const tuned = await alg.run(pool);
    assert.ok(alg.losses[3]! < alg.losses[0]!, `summed loss ${alg.losses.join(' → ')}`);
    // The save_interval checkpoint: in the log dir as fusion_bench, in the same (adapter) layout as the result.
    assert.ok(existsSync(join(dir, 'log', 'checkpoints', 'step=1', 'adapter_model.safetensors')), 'checkpoint under <log_dir>/checkpoints');

    // peft's adapter layout.
    const config = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.peft_type, 'LORA');
    assert.equal(config.r, 4);
    assert.equal(config.lora_alpha, 8);
    assert.deepEqual(config.target_modules, ['q_proj', 'v_proj']);
    const ad = openCheckpoint(join(adapter, 'adapter_model.safetensors'));
    const base = await pool.loadPretrainedModel();
    try {
      const cfg = clipVisionConfigFrom(base.config!);
      assert.equal(ad.names().length, cfg.numHiddenLayers * 2 * 2);
      const d = cfg.hiddenSize;
      for (const k of base.stateDict.names()) {
        const m = /^vision_model\.(encoder\.layers\.\d+\.self_attn\.[qv]_proj)\.weight$/.exec(k);
        const w = base.stateDict.loadF32(k);
        const got = tuned.stateDict.loadF32(k);
        if (!m) {
          assert.deepEqual(got, w, `${k} is not trained`);
          continue;
        }
        const a = ad.loadF32(`base_model.model.${m[1]}.lora_A.weight`);
        const b = ad.loadF32(`base_model.model.${m[1]}.lora_B.weight`);
        assert.deepEqual(ad.info(`base_model.model.${m[1]}.lora_A.weight`).shape, [4, d]);
        assert.ok(b.some((x) => x !== 0), `${k}: B trained`);
        for (let o = 0; o < d; o++) {
          for (let i = 0; i < d; i++) {
            let s = 0;
            for (let r = 0; r < 4; r++) s += b[o * 4 + r]! * a[r * d + i]!;
            assert.equal(got[o * d + i], Math.fround(w[o * d + i]! + 2 * s), `${k}[${o}, ${i}]`);
          }
        }
      }
    } finally {
      ad.close();
      base.stateDict.close?.();
    }

    // Resume from the adapter, skip training, save merged: the same weights as a Hugging Face model.
    const merged = join(dir, 'merged');
    const again = await new ImageClassificationFineTuningForCLIP({ use_lora: true, lora_config, state_dict_load_path: adapter, skip_training: true, state_dict_save_path: merged }).run(demoPool({}));
    const loaded = await new CLIPVisionModelPool({ models: { m: merged } }).loadModel('m');
    for (const k of tuned.stateDict.names()) {
      assert.deepEqual(again.stateDict.loadF32(k), tuned.stateDict.loadF32(k), k);
      assert.deepEqual(loaded.stateDict.loadF32(k), tuned.stateDict.loadF32(k), k);
    }
    loaded.stateDict.close?.();
    again.stateDict.close?.();
    tuned.stateDict.close?.();
    // An adapter made with another rank or other target modules is a UserError naming the mismatch.
    await assert.rejects(new ImageClassificationFineTuningForCLIP({ use_lora: true, lora_config: { ...lora_config, r: 8 }, state_dict_load_path: adapter, skip_training: true }).run(demoPool({})), (e: unknown) => e instanceof UserError && /the adapter has r = 4, lora_config.r is 8/.test(e.message));
    await assert.rejects(new ImageClassificationFineTuningForCLIP({ use_lora: true, lora_config: { ...lora_config, target_modules: ['fc1'] }, state_dict_load_path: adapter, skip_training: true }).run(demoPool({})), (e: unknown) => e instanceof UserError && /lora_A.weight is missing/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
