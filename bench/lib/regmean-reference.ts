/**
 * Our `regmean/clip_regmean` against fusion_bench's own RegMeanAlgorithmForCLIP (bench/compare/
 * regmean_reference.py runs its unmodified files on torch) on the same towers and the same preprocessed
 * train images: our merged weights (saved as the CLI saves them) and our mean Gram matrices are written to
 * a work folder with every train image of each task as our pipeline preprocessed it; the reference
 * reads them, runs fusion_bench's method on those images (torch hooks on the transformers-equivalent
 * tower of bench/compare/clip_torch.py) and reports the differences tensor by tensor as JSON.
 * Used by bench/compare's `regmean` part and by test/method/regmean-fusion-bench.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipTaskData } from '../../src/method/gradient/clip-tasks.js';
import { RegMeanAlgorithmForCLIP } from '../../src/method/regmean/clip-regmean.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { savePretrained } from '../../src/modelpool/save-pretrained.js';
import { runContext } from '../../src/run-context.js';
import { stateDictFromArrays } from '../../src/tensor/index.js';
import { writeSafetensors } from '../../src/tensor/safetensors-write.js';

/** The checkout's root: the first folder above this file (compiled under dist/ or not) with package.json. */
const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const regmeanReferencePy = join(repoRoot, 'bench', 'compare', 'regmean_reference.py');

export interface RegMeanCase {
  /** `_pretrained_` and one entry per task: CLIP (vision) model folders. */
  readonly models: Record<string, string>;
  /** The CLIP processor's folder (image preprocessing). */
  readonly processor: string;
  /** Task → a `modelpool.train_datasets` entry. */
  readonly trainDatasets: Record<string, Record<string, unknown>>;
  /** The method config (fusion_bench's keys); num_regmean_examples must cover every train set. */
  readonly method: Record<string, unknown>;
}

export interface RegMeanComparisonOptions {
  readonly python: string;
  readonly fbSrc: string;
  readonly threads?: number;
  /** Kept (not removed) for inspection; default: a temporary folder, removed afterwards. */
  readonly workDir?: string;
}

/** Every train image of `task`, preprocessed by our pipeline, in the data set's order. */
async function allImages(ctx: ClipTaskData, task: string): Promise<{ pixels: Float32Array; shape: number[] }> {
  const probe = await ctx.batches('train_datasets', task, 1, 0);
  const n = probe.dataset.length;
  const b = await (await ctx.batches('train_datasets', task, n, 0)).nextBatch();
  const side = Math.round(Math.sqrt(b.pixels.length / (3 * n)));
  return { pixels: b.pixels, shape: [n, 3, side, side] };
}

/**
 * Runs ours in this process, then the reference; returns the reference's JSON with our side's
 * timing, or throws with the reference's stderr when it fails.
 */
export async function compareRegMean(c: RegMeanCase, o: RegMeanComparisonOptions): Promise<Record<string, unknown>> {
  const work = o.workDir ?? mkdtempSync(join(tmpdir(), 'fb-regmean-ref-'));
  mkdirSync(work, { recursive: true });
  try {
    const pool = () => new CLIPVisionModelPool({ models: c.models, processor: c.processor, platform: 'hf', train_datasets: c.trainDatasets });
    const alg = new RegMeanAlgorithmForCLIP(c.method, runContext({ status: null }));
    const ourGrams: Record<string, string> = {};
    const gramWrites: Promise<unknown>[] = [];
    alg.onMeanGrams = (task, grams) => {
      const file = join(work, `ours-grams-${task}.safetensors`);
      const entries: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [m, g] of grams) {
        const d = Math.round(Math.sqrt(g.length));
        entries[m] = { shape: [d, d], data: g };
      }
      gramWrites.push(writeSafetensors(file, stateDictFromArrays(entries)));
      ourGrams[task] = file;
    };
    const t0 = performance.now();
    const merged = await alg.run(pool());
    const oursSeconds = (performance.now() - t0) / 1000;
    const oursDir = join(work, 'merged-ours');
    try {
      await savePretrained(oursDir, merged.stateDict, merged.config ? JSON.stringify(merged.config) : null);
    } finally {
      merged.stateDict.close?.();
    }
    await Promise.all(gramWrites);

    const pixels: Record<string, { file: string; shape: number[] }> = {};
    const ctx = await ClipTaskData.open(pool(), 'regmean reference');
    try {
      for (const task of Object.keys(c.trainDatasets)) {
        const { pixels: px, shape } = await allImages(ctx, task);
        const file = join(work, `pixels-${task}.f32`);
        writeFileSync(file, new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
        pixels[task] = { file, shape };
      }
    } finally {
      ctx.close();
    }
    const method = {
      num_regmean_examples: alg.num_regmean_examples,
      reduce_non_diagonal_ratio: alg.reduce_non_diagonal_ratio,
      weight_transpose: alg.weight_transpose,
      exclude_param_names_regex: alg.exclude_param_names_regex,
      dataloader_kwargs: { batch_size: alg.batch_size, num_workers: 0 },
    };
    writeFileSync(join(work, 'manifest.json'), JSON.stringify({ models: c.models, pixels, method, ours: oursDir, our_grams: ourGrams, ...(o.workDir ? { fb_out: join(work, 'fusion-bench.safetensors') } : {}) }));
    const t1 = performance.now();
    const r = spawnSync(o.python, [regmeanReferencePy, '--fb-src', o.fbSrc, '--work', work, '--threads', String(o.threads ?? 2)], { encoding: 'utf8', maxBuffer: 16 << 20 });
    const refSeconds = (performance.now() - t1) / 1000;
    if (r.status !== 0) throw new Error(`${o.python} ${regmeanReferencePy} failed (${r.signal ?? `exit ${r.status}`}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-8).join('\n')}`);
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Record<string, unknown>;
    return { ...json, ours_examples: alg.examples, ours_seconds: Number(oursSeconds.toFixed(2)), reference_seconds: Number(refSeconds.toFixed(2)) };
  } finally {
    if (!o.workDir) rmSync(work, { recursive: true, force: true });
  }
}
