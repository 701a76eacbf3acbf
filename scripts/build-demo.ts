/**
 * Builds demo/: a tiny seeded CLIP model, two vision towers fine-tuned from it (MNIST, Fashion-MNIST) by
 * our own `classification/clip_finetune` (the fusion-bench command, run as a child process), and
 * 500-image slices of the real MNIST / Fashion-MNIST test sets, so that `fusion-bench --config-name demo`
 * runs a real merge-and-evaluate job offline.
 *
 *   npx tsx scripts/build-demo.ts            (reads ../shared/data, or $FUSION_BENCH_SHARED_DIR/data)
 *   npx tsx scripts/build-demo.ts --measure-only     (keeps the committed towers, re-measures)
 *
 * The training slices are written as Hugging Face parquet under .tmp/demo-build (git-ignored; or
 * $FUSION_BENCH_DEMO_WORK), never into demo/. Only this script reads ../shared; the demo itself uses the
 * committed files under demo/. The pretrained model is byte-identical on every run; the fine-tuned towers
 * are deterministic on a given machine (onnxruntime's float rounding may differ between CPUs).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToUnicode } from '../src/models/clip/bpe.js';
import { clipTextConfigFrom, clipVisionConfigFrom, type ClipVisionConfig } from '../src/models/clip/config.js';
import { l2NormalizeRows } from '../src/models/clip/head.js';
import { openCheckpoint } from '../src/tensor/checkpoint.js';
import { CLIPImageProcessor } from '../src/models/clip/image-processor.js';
import { randomClipStateDict } from '../src/models/clip/random-weights.js';
import { ClipTextSession, ClipVisionSession } from '../src/models/clip/session.js';
import { CLIPTokenizer } from '../src/models/clip/tokenizer.js';
import { computeZeroShotHead, type ZeroShotHead } from '../src/taskpool/clip-vision/zero-shot-head.js';
import { getClassnamesAndTemplates } from '../src/tasks/clip-classification/index.js';
import { f16ToF32, f32ToF16 } from '../src/tensor/dtype.js';
import { MemoryStateDict, makeTensor } from '../src/tensor/memory-state-dict.js';
import { writeSafetensorsSync } from '../src/tensor/safetensors-write.js';
import type { StateDict } from '../src/tensor/types.js';
import { idxSliceAsPngs, readIdxImages, readIdxLabels, writeHfParquetDataset } from '../test/helpers/datasets.js';

// ---------------------------------------------------------------------------------------------- settings

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'demo');
const SHARED = process.env.FUSION_BENCH_SHARED_DIR ?? resolve(ROOT, '..', 'shared');
/** Scratch space for the training slices and the fine-tuning runs' log folders (not part of demo/). */
const WORK = process.env.FUSION_BENCH_DEMO_WORK ?? join(ROOT, '.tmp', 'demo-build');

const FINETUNE = { num_steps: 300, batch_size: 64, learning_rate: 1e-3, weight_decay: 0, seed: 42 };

export const SETTINGS = {
  seed: 20240601,
  image: 28,
  vision: { hidden_size: 96, intermediate_size: 384, num_hidden_layers: 3, num_attention_heads: 4, patch_size: 7 },
  text: { hidden_size: 64, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4 },
  projectionDim: 64,
  /** ln 100: trained CLIP models sit at this cap; the random init value (ln 1/0.07) would make logits too flat. */
  logitScale: Math.log(100),
  /**
   * The vision position embeddings are drawn 10× wider than CLIP's initialiser (std 0.2 instead of 0.02):
   * with the narrow init the frozen random tower sees a bag of patches and forgets where the strokes are.
   */
  positionEmbeddingGain: 10,
  /** The CLS embedding 5× narrower than CLIP's initialiser: a large constant CLS offset drowns the image-dependent part of the pooled feature. */
  classEmbeddingGain: 0.2,
  /** Training slices (images [start, start + n)). MNIST has only its test set offline: fit on test[0, 8000). */
  train: { mnist: { split: 'test', start: 0, n: 8000 }, fashion_mnist: { split: 'train', start: 0, n: 8000 } },
  /** Held-out measurement slice (test split) and the demo's evaluation slice (test split), disjoint from training. */
  validation: { start: 8000, n: 1500 },
  demo: { start: 9500, n: 500 },
  /** `classification/clip_finetune` options (full fine-tuning, Adam + cosine), the same for both towers. */
  finetune: FINETUNE,
  scalingFactors: [0.3, 0.5, 0.7, 0.8, 1.0, 1.2, 1.5],
  /** The best average validation accuracy of the scan (config/method/demo/task_arithmetic.yaml uses it; the build checks). */
  demoScalingFactor: 1.0,
} as const;

const TASKS = ['mnist', 'fashion_mnist'] as const;
type Task = (typeof TASKS)[number];

const LABEL_NAMES: Record<Task, string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  fashion_mnist: ['T - shirt / top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

// ------------------------------------------------------------------------------------------------ files

function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function writeJson(path: string, value: unknown): void {
  writeAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Rounds every value to float16 (what the committed files hold), so training sees the stored weights. */
function roundF16(a: Float32Array): Float32Array {
  return f16ToF32(f32ToF16(a));
}

function writeF16Checkpoint(dir: string, tensors: Map<string, { shape: readonly number[]; data: Float32Array }>): void {
  const sd = new MemoryStateDict([...tensors].map(([n, t]) => [n, makeTensor('F16', t.shape, roundF16(t.data))] as const));
  mkdirSync(dir, { recursive: true });
  writeSafetensorsSync(join(dir, 'model.safetensors'), sd, { fsync: false });
}

// ------------------------------------------------------------------------------- tokenizer and configs

/**
 * A character-level CLIP BPE vocabulary: the 256 byte symbols, the same with `</w>`, then the two special
 * tokens, and no merges (ids as openai/CLIP orders them, minus the merged symbols). 514 tokens.
 */
function writeTokenizer(dir: string): void {
  const bytes = bytesToUnicode();
  // openai/CLIP lists the printable bytes first (in byte order), then the remapped ones: the values of
  // bytes_to_unicode() in its insertion order.
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const order = [...Array(256).keys()].filter(printable).concat([...Array(256).keys()].filter((b) => !printable(b)));
  const symbols = order.map((b) => bytes[b]!);
  const vocab: Record<string, number> = {};
  symbols.forEach((s, i) => (vocab[s] = i));
  symbols.forEach((s, i) => (vocab[`${s}</w>`] = 256 + i));
  vocab['<|startoftext|>'] = 512;
  vocab['<|endoftext|>'] = 513;
  writeJson(join(dir, 'vocab.json'), vocab);
  writeAtomic(join(dir, 'merges.txt'), '#version: 0.2\n');
  const specials = { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', pad_token: '<|endoftext|>' };
  writeJson(join(dir, 'special_tokens_map.json'), specials);
  writeJson(join(dir, 'tokenizer_config.json'), {
    ...specials,
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: 77,
    errors: 'replace',
    do_lower_case: true,
    add_prefix_space: false,
    clean_up_tokenization_spaces: true,
  });
}

function preprocessorConfig(): Record<string, unknown> {
  const s = SETTINGS.image;
  return {
    crop_size: { height: s, width: s },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_processor_type: 'CLIPImageProcessor',
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: s },
  };
}

function visionConfigJson(): Record<string, unknown> {
  return { ...SETTINGS.vision, image_size: SETTINGS.image, model_type: 'clip_vision_model', projection_dim: SETTINGS.projectionDim };
}

function clipConfigJson(): Record<string, unknown> {
  return {
    architectures: ['CLIPModel'],
    initializer_factor: 1.0,
    logit_scale_init_value: SETTINGS.logitScale,
    model_type: 'clip',
    projection_dim: SETTINGS.projectionDim,
    text_config: {
      ...SETTINGS.text,
      vocab_size: 514,
      max_position_embeddings: 77,
      bos_token_id: 512,
      eos_token_id: 513,
      pad_token_id: 513,
      model_type: 'clip_text_model',
      projection_dim: SETTINGS.projectionDim,
    },
    torch_dtype: 'float16',
    transformers_version: '4.45.0',
    vision_config: visionConfigJson(),
  };
}

function visionModelConfigJson(task: Task): Record<string, unknown> {
  return {
    _name_or_path: `demo/models/tiny-clip-${task}`,
    architectures: ['CLIPVisionModel'],
    ...visionConfigJson(),
    torch_dtype: 'float16',
    transformers_version: '4.45.0',
  };
}

// ------------------------------------------------------------------------------------------------- data

interface Slice {
  pixels: Uint8Array[];
  labels: Uint8Array;
}

function idxPaths(task: Task, split: string): { images: string; labels: string } {
  const dir = join(SHARED, 'data', task);
  const stem = split === 'test' ? 't10k' : 'train';
  return { images: join(dir, `${stem}-images-idx3-ubyte.gz`), labels: join(dir, `${stem}-labels-idx1-ubyte.gz`) };
}

function readSlice(task: Task, split: string, start: number, n: number): Slice {
  const p = idxPaths(task, split);
  const idx = readIdxImages(p.images);
  const labels = readIdxLabels(p.labels);
  const size = idx.rows * idx.cols;
  const pixels: Uint8Array[] = [];
  for (let i = start; i < start + n; i++) pixels.push(idx.pixels.slice(i * size, (i + 1) * size));
  return { pixels, labels: labels.slice(start, start + n) };
}

function writeDemoDataset(task: Task): string {
  const p = idxPaths(task, 'test');
  const s = idxSliceAsPngs(p.images, p.labels, SETTINGS.demo.start, SETTINGS.demo.n);
  const dir = join(OUT, 'data', task);
  return writeHfParquetDataset(dir, { split: 'test', images: s.images, labels: s.labels, labelNames: LABEL_NAMES[task], rowGroupSize: 500 });
}

// --------------------------------------------------------------------------------------- fine-tuning

/** The training slice of `task` as a Hugging Face parquet split 'train' under WORK; returns its path. */
function writeTrainSlice(task: Task): string {
  const tr = SETTINGS.train[task];
  const p = idxPaths(task, tr.split);
  const s = idxSliceAsPngs(p.images, p.labels, tr.start, tr.n);
  return writeHfParquetDataset(join(WORK, 'data', task), { split: 'train', images: s.images, labels: s.labels, labelNames: LABEL_NAMES[task], rowGroupSize: 1000 });
}

/**
 * The fusion-bench command line that fine-tunes the demo's pretrained tower on `task`'s training slice
 * (demo/README.md shows it): the demo config with clip_finetune as the method, no evaluation.
 */
export function finetuneArgs(task: Task, trainParquet: string, saveDir: string, runDir: string): string[] {
  const f = SETTINGS.finetune;
  return [
    '--config-name', 'demo', 'method=classification/clip_finetune', 'taskpool=dummy',
    `+modelpool.train_datasets={${task}: {_target_: datasets.load_dataset, path: parquet, data_files: {train: '${trainParquet}'}, split: train}}`,
    `method.num_steps=${f.num_steps}`, `method.batch_size=${f.batch_size}`, `method.learning_rate=${f.learning_rate}`,
    `method.weight_decay=${f.weight_decay}`, `method.seed=${f.seed}`, `method.save_interval=${f.num_steps}`,
    `method.state_dict_save_path='${saveDir}'`, `hydra.run.dir='${runDir}'`, `path.log_dir='${runDir}'`,
  ];
}

function finetune(task: Task, log: (s: string) => void): void {
  const train = writeTrainSlice(task);
  const dir = join(OUT, 'models', `tiny-clip-${task}`);
  const run = join(WORK, `run-${task}`);
  rmSync(run, { recursive: true, force: true });
  const args = finetuneArgs(task, train, dir, run);
  log(`fusion-bench ${args.map((a) => (/[ {}']/.test(a) ? `"${a}"` : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fusion-bench.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`fine-tuning on ${task} failed (exit ${r.status})`);
  // Stored in float16 like the pretrained model (half the bytes; the rounding, ~5e-4 relative, is far
  // below the fine-tuning's changes). The saved config names this machine's path of the pretrained
  // model; the committed one names the demo's.
  const saved = openCheckpoint(dir);
  const tensors = new Map(saved.names().map((n) => [n, { shape: saved.info(n).shape, data: saved.loadF32(n) }] as const));
  saved.close();
  writeF16Checkpoint(dir, tensors);
  writeJson(join(dir, 'config.json'), visionModelConfigJson(task));
}

// -------------------------------------------------------------------------------------------- measuring

/** Top-1 zero-shot accuracy of a vision tower (state dict) on a slice, as the task pool computes it. */
async function accuracy(cfg: ClipVisionConfig, sd: StateDict, projection: Float32Array, head: ZeroShotHead, processor: CLIPImageProcessor, slice: Slice): Promise<number> {
  const session = await ClipVisionSession.create(cfg, sd, { projection, threads: 2 });
  try {
    const per = 3 * SETTINGS.image * SETTINGS.image;
    const batch = 250;
    let right = 0;
    for (let s = 0; s < slice.pixels.length; s += batch) {
      const n = Math.min(batch, slice.pixels.length - s);
      const px = new Float32Array(n * per);
      for (let i = 0; i < n; i++) processor.preprocessInto({ width: 28, height: 28, channels: 1, mode: 'L', data: slice.pixels[s + i]! }, px, i * per);
      const emb = l2NormalizeRows((await session.run(px, n)).embeds!, head.dim);
      for (let i = 0; i < n; i++) {
        let best = 0;
        let bestScore = -Infinity;
        for (let c = 0; c < head.numClasses; c++) {
          let score = 0;
          for (let k = 0; k < head.dim; k++) score += emb[i * head.dim + k]! * head.weights[c * head.dim + k]!;
          if (score > bestScore) [best, bestScore] = [c, score];
        }
        if (best === slice.labels[s + i]) right++;
      }
    }
    return right / slice.pixels.length;
  } finally {
    await session.dispose();
  }
}

/** pretrained + λ Σ (fine-tuned − pretrained) over the towers' tensors, in float32 as the task_arithmetic method computes it. */
function taskArithmetic(base: StateDict, models: readonly StateDict[], lambda: number): StateDict {
  return new MemoryStateDict(base.names().map((n) => {
    const b = base.loadF32(n);
    if (!models[0]!.has(n)) return [n, makeTensor('F32', base.info(n).shape, b)] as const;
    const tvs = models.map((m) => m.loadF32(n));
    const out = new Float32Array(b.length);
    for (let j = 0; j < b.length; j++) {
      let tv = 0;
      for (const t of tvs) tv = Math.fround(tv + Math.fround(t[j]! - b[j]!));
      out[j] = b[j]! + Math.fround(lambda * tv);
    }
    return [n, makeTensor('F32', base.info(n).shape, out)] as const;
  }));
}

// ------------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const t0 = Date.now();
  const log = (s: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}\n`);
  const modelsDir = join(OUT, 'models');
  const pre = join(modelsDir, 'tiny-clip');

  // 1. The "pretrained" CLIPModel: seeded random weights, stored as float16.
  const clipJson = clipConfigJson();
  const vcfg = clipVisionConfigFrom(clipJson, 'demo config');
  const tcfg = clipTextConfigFrom(clipJson, 'demo config');
  const raw = randomClipStateDict({ vision: vcfg, text: tcfg, projectionDim: SETTINGS.projectionDim }, SETTINGS.seed);
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const n of raw.names()) {
    let data = n === 'logit_scale' ? Float32Array.of(SETTINGS.logitScale) : raw.loadF32(n);
    if (n === 'vision_model.embeddings.position_embedding.weight') {
      // the patch rows only: row 0 (the CLS token's) adds the same offset to every image's CLS feature
      const d = SETTINGS.vision.hidden_size;
      data = data.map((x, i) => (i < d ? x : x * SETTINGS.positionEmbeddingGain));
    }
    if (n === 'vision_model.embeddings.class_embedding') data = data.map((x) => x * SETTINGS.classEmbeddingGain);
    tensors.set(n, { shape: raw.info(n).shape, data: roundF16(data) });
  }
  writeF16Checkpoint(pre, tensors);
  writeJson(join(pre, 'config.json'), clipJson);
  writeJson(join(pre, 'preprocessor_config.json'), preprocessorConfig());
  writeTokenizer(pre);
  const sd = new MemoryStateDict([...tensors].map(([n, t]) => [n, makeTensor('F32', t.shape, t.data)] as const));
  log(`pretrained tiny-clip written (${tensors.size} tensors)`);

  // 2. The demo's data: the evaluation slices as Hugging Face parquet with PNG images.
  for (const task of TASKS) log(`wrote ${writeDemoDataset(task)}`);

  // 3. Fine-tune one tower per task with fusion-bench's classification/clip_finetune (--measure-only:
  //    keep the towers in demo/models and only measure).
  for (const task of process.argv.includes('--measure-only') ? [] : TASKS) {
    log(`fine-tuning on ${task}`);
    finetune(task, log);
  }

  // 4. Measure: every model on every task, validation and demo slices, with zero-shot heads from the
  //    pretrained text tower, exactly as the task pool builds them.
  const tokenizer = CLIPTokenizer.fromDir(pre);
  const text = await ClipTextSession.create(tcfg, sd, { projection: sd.loadF32('text_projection.weight'), threads: 2 });
  const heads = {} as Record<Task, ZeroShotHead>;
  for (const task of TASKS) heads[task] = await computeZeroShotHead(text, tokenizer, await getClassnamesAndTemplates(task));
  await text.dispose();
  const processor = CLIPImageProcessor.fromConfig(preprocessorConfig());
  const slices = {} as Record<Task, { val: Slice; demo: Slice }>;
  for (const task of TASKS) slices[task] = { val: readSlice(task, 'test', SETTINGS.validation.start, SETTINGS.validation.n), demo: readSlice(task, 'test', SETTINGS.demo.start, SETTINGS.demo.n) };
  const projection = sd.loadF32('visual_projection.weight');
  const tuned = TASKS.map((t) => openCheckpoint(join(modelsDir, `tiny-clip-${t}`)));
  const results: Record<string, Record<string, { validation: number; demo: number }>> = {};
  const measure = async (label: string, model: StateDict) => {
    results[label] = {};
    for (const task of TASKS) {
      results[label]![task] = {
        validation: await accuracy(vcfg, model, projection, heads[task], processor, slices[task].val),
        demo: await accuracy(vcfg, model, projection, heads[task], processor, slices[task].demo),
      };
    }
    const r = results[label]!;
    log(`${label.padEnd(26)} ${TASKS.map((t) => `${t} val ${(100 * r[t]!.validation).toFixed(1)}% demo ${(100 * r[t]!.demo).toFixed(1)}%`).join('  ')}`);
  };
  await measure('pretrained', sd);
  for (const [i, task] of TASKS.entries()) await measure(`fine-tuned ${task}`, tuned[i]!);
  for (const lam of SETTINGS.scalingFactors) await measure(`task arithmetic λ=${lam}`, taskArithmetic(sd, tuned, lam));
  for (const t of tuned) t.close();
  const avg = (lam: number) => TASKS.reduce((a, t) => a + results[`task arithmetic λ=${lam}`]![t]!.validation, 0) / TASKS.length;
  const best = SETTINGS.scalingFactors.reduce((a, b) => (avg(b) > avg(a) ? b : a));
  if (best !== SETTINGS.demoScalingFactor) log(`WARNING: the best λ on the validation images is now ${best}; set SETTINGS.demoScalingFactor and config/method/demo/task_arithmetic.yaml to it`);

  writeJson(join(OUT, 'build-report.json'), { settings: SETTINGS, accuracy: results });
  log('done');
}

await main();
