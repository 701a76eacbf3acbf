/**
 * The committed demo/ folder: models load through the tensor reader and the CLIP config reader, the
 * fine-tuned towers are full fine-tunes of the pretrained one, the
 * tokenizer works, the data sets load through the real parquet loader with sane labels, and
 * config/demo.yaml composes to paths that exist from any working directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { composeConfig } from '../../src/config/compose.js';
import { resolveAll } from '../../src/config/omegaconf/index.js';
import { loadImageClassificationDataset } from '../../src/data/index.js';
import { decodeImage } from '../../src/image/decode.js';
import { readClipConfig } from '../../src/models/clip/config.js';
import { CLIPTokenizer } from '../../src/models/clip/tokenizer.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { repoRoot } from '../helpers/paths.js';

const demo = join(repoRoot, 'demo');
const models = join(demo, 'models');
const TASKS = ['mnist', 'fashion_mnist'] as const;

function json(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? folderBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

test('the pretrained demo model is a full CLIPModel in float16 whose tensors match its config', () => {
  const dir = join(models, 'tiny-clip');
  const cfg = readClipConfig(json(join(dir, 'config.json')), 'tiny-clip/config.json');
  assert.equal(cfg.modelType, 'clip');
  const sd = openCheckpoint(dir);
  try {
    const v = cfg.vision!;
    const t = cfg.text!;
    assert.deepEqual(sd.info('vision_model.embeddings.patch_embedding.weight').shape, [v.hiddenSize, 3, v.patchSize, v.patchSize]);
    assert.deepEqual(sd.info('vision_model.embeddings.position_embedding.weight').shape, [(v.imageSize / v.patchSize) ** 2 + 1, v.hiddenSize]);
    assert.deepEqual(sd.info('text_model.embeddings.token_embedding.weight').shape, [t.vocabSize, t.hiddenSize]);
    assert.deepEqual(sd.info('visual_projection.weight').shape, [cfg.projectionDim, v.hiddenSize]);
    assert.deepEqual(sd.info('text_projection.weight').shape, [cfg.projectionDim, t.hiddenSize]);
    for (const n of sd.names()) assert.equal(sd.info(n).dtype, 'F16', n);
    const layers = new Set(sd.names().filter((n) => n.startsWith('vision_model.encoder.layers.')).map((n) => n.split('.')[3]));
    assert.equal(layers.size, v.numHiddenLayers);
    const scale = sd.loadF32('logit_scale')[0]!;
    assert.ok(Math.abs(scale - Math.log(100)) < 1e-2, `logit_scale ${scale}`);
    for (const n of sd.names()) assert.ok(sd.loadF32(n).every(Number.isFinite), `${n} has non-finite values`);
  } finally {
    sd.close?.();
  }
});

test('each fine-tuned tower is a float16 CLIPVisionModel with every pretrained vision tensor, all moved by full fine-tuning', () => {
  const pre = openCheckpoint(join(models, 'tiny-clip'));
  try {
    const visionNames = pre.names().filter((n) => n.startsWith('vision_model.')).sort();
    for (const task of TASKS) {
      const dir = join(models, `tiny-clip-${task}`);
      const cfg = readClipConfig(json(join(dir, 'config.json')));
      assert.equal(cfg.modelType, 'clip_vision_model');
      assert.deepEqual(cfg.architectures, ['CLIPVisionModel']);
      assert.ok(!readFileSync(join(dir, 'config.json'), 'utf8').includes(repoRoot), 'no absolute path of the build machine');
      const ft = openCheckpoint(dir);
      try {
        assert.deepEqual([...ft.names()].sort(), visionNames);
        for (const n of visionNames) {
          assert.deepEqual(ft.info(n).shape, pre.info(n).shape, n);
          assert.equal(ft.info(n).dtype, 'F16', n);
          const a = ft.loadF32(n);
          const b = pre.loadF32(n);
          assert.ok(a.some((x, i) => x !== b[i]), `${task}: ${n} unchanged`);
        }
      } finally {
        ft.close?.();
      }
    }
  } finally {
    pre.close?.();
  }
});

test('the demo tokenizer is character-level CLIP BPE: BOS, one token per character, EOS, all inside the vocabulary', () => {
  const dir = join(models, 'tiny-clip');
  const tok = CLIPTokenizer.fromDir(dir);
  const vocabSize = readClipConfig(json(join(dir, 'config.json'))).text!.vocabSize;
  const prompt = 'a photo of the number: "7".';
  const [ids] = tok.encodeBatch([prompt], { padding: false }).inputIds;
  assert.equal(ids![0], tok.bosTokenId);
  assert.equal(ids![ids!.length - 1], tok.eosTokenId);
  assert.equal(ids!.length, prompt.replaceAll(' ', '').length + 2);
  assert.ok(ids!.every((i) => i >= 0 && i < vocabSize));
  assert.equal(tok.eosTokenId, vocabSize - 1);
});

for (const task of TASKS) {
  test(`the ${task} demo slice loads through the parquet loader: 500 28×28 images, labels 0–9, every class present`, async () => {
    const file = join(demo, 'data', task, 'data', 'test-00000-of-00001.parquet');
    // From another working directory: the loader must take the absolute path as it is.
    const ds = await loadImageClassificationDataset({ path: 'parquet', data_files: { test: file }, split: 'test' }, { cwd: '/' });
    assert.equal(ds.length, 500);
    assert.equal(ds.features.labelNames?.length, 10);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < ds.length; i++) {
      const ex = await ds.get(i);
      assert.ok(Number.isInteger(ex.label) && ex.label >= 0 && ex.label < 10, `row ${i}: label ${ex.label}`);
      counts[ex.label]++;
      if (i % 100 === 0) {
        const img = decodeImage(ex.image);
        assert.deepEqual([img.width, img.height, img.mode], [28, 28, 'L']);
      }
    }
    assert.ok(counts.every((c) => c > 0), `class counts ${counts.join(', ')}`);
  });
}

test('config/demo.yaml composes; its model and data paths resolve to the demo files from any working directory', () => {
  const { config } = composeConfig({ configPath: join(repoRoot, 'config'), configName: 'demo', overrides: [], runMode: 'RUN', cwd: '/tmp' });
  const { hydra, ...job } = config;
  const resolved = resolveAll(job, { env: {}, hydra: hydra as any }) as Record<string, any>;
  assert.equal(resolved._target_, 'fusion_bench.programs.FabricModelFusionProgram');
  assert.equal(resolved.method._target_, 'fusion_bench.method.TaskArithmeticAlgorithm');
  assert.equal(resolved.modelpool._target_, 'fusion_bench.modelpool.CLIPVisionModelPool');
  assert.equal(resolved.taskpool._target_, 'fusion_bench.taskpool.CLIPVisionModelTaskPool');
  const modelDirs = Object.values(resolved.modelpool.models) as string[];
  assert.deepEqual(Object.keys(resolved.modelpool.models), ['_pretrained_', 'mnist', 'fashion_mnist']);
  for (const d of modelDirs) assert.ok(existsSync(join(d, 'model.safetensors')) && existsSync(join(d, 'config.json')), d);
  assert.deepEqual(Object.keys(resolved.taskpool.test_datasets), ['mnist', 'fashion_mnist']);
  for (const ds of Object.values(resolved.taskpool.test_datasets) as any[]) {
    assert.equal(ds._target_, 'datasets.load_dataset');
    assert.equal(ds.path, 'parquet');
    assert.ok(existsSync(ds.data_files.test), ds.data_files.test);
  }
  assert.ok(existsSync(join(resolved.taskpool.clip_model.pretrained_model_name_or_path, 'preprocessor_config.json')));
});

test('the demo folder stays small (a few MB)', () => {
  const mb = folderBytes(demo) / 1e6;
  assert.ok(mb < 6, `demo/ is ${mb.toFixed(2)} MB`);
});

test('the demo config merges with the scaling factor the build report measured, and that merge beats the pretrained model on both tasks', () => {
  const report = json(join(demo, 'build-report.json')) as any;
  const { config } = composeConfig({ configPath: join(repoRoot, 'config'), configName: 'demo', overrides: [], runMode: 'RUN', cwd: '/tmp' });
  const lambda = Number((config.method as any).scaling_factor);
  assert.equal(lambda, report.settings.demoScalingFactor);
  const merged = report.accuracy[`task arithmetic λ=${lambda}`];
  assert.ok(merged, `build-report.json has no entry for λ=${lambda}`);
  for (const task of TASKS) {
    const pre = report.accuracy.pretrained[task].demo;
    const own = report.accuracy[`fine-tuned ${task}`][task].demo;
    assert.ok(own > pre + 0.2, `${task}: fine-tuned ${own} vs pretrained ${pre}`);
    assert.ok(merged[task].demo > pre && merged[task].demo < own, `${task}: merged ${merged[task].demo} not between ${pre} and ${own}`);
  }
});
