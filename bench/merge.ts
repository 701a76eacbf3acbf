/**
 * Merging benchmarks on seeded random CLIP vision towers (ViT-B/32 by default: 87.5M float32 parameters,
 * 350 MB per model): task arithmetic of three models (pretrained + two fine-tuned) and TIES merging,
 * each measured end to end — open the checkpoints through CLIPVisionModelPool, merge, save the merged
 * model — in a fresh child process, so that its peak RSS is the stage's own.
 *
 * `--scale` adds the same task-arithmetic run on synthetic ~1B-parameter models (hidden 2048, 20 layers,
 * about 4 GB per model, 16 GB of disk in all) to show that peak RSS does not grow with model size.
 *
 * GB/s counts the parameter bytes of the input models read (1 GB = 1e9 B). Prints JSON.
 * Usage: node dist/bench/merge.js [--layers 12] [--scale [--scale-layers 20]] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskArithmeticAlgorithm, TiesMergingAlgorithm } from '../src/method/index.js';
import { CLIPVisionModelPool } from '../src/modelpool/index.js';
import { writeRandomClipVisionModel, type RandomClipVisionOptions } from './lib/random-model.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/merge.js [--layers 12] [--scale [--scale-layers 20]] [--keep]';
const { values } = benchArgs(USAGE, {
  options: {
    layers: { type: 'string', default: '12' },
    scale: { type: 'boolean', default: false },
    'scale-layers': { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    stage: { type: 'string' },
    dir: { type: 'string' },
  },
});

const maxRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** One stage, run inside the child process: merge the three models in `dir`, save, report. */
async function runStage(stage: string, dir: string): Promise<void> {
  const t0 = performance.now();
  const pool = new CLIPVisionModelPool({ models: { _pretrained_: join(dir, 'pretrained'), a: join(dir, 'ft-a'), b: join(dir, 'ft-b') } });
  const method = stage === 'ties' ? new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, remove_keys: [], merge_func: 'sum' }) : new TaskArithmeticAlgorithm({ scaling_factor: 0.3 });
  const merged = await method.run(pool);
  const t1 = performance.now();
  await pool.saveModel(merged, join(dir, `merged-${stage}`));
  const t2 = performance.now();
  let params = 0;
  for (const n of merged.stateDict.names()) params += merged.stateDict.info(n).shape.reduce((a, b) => a * b, 1);
  merged.stateDict.close?.();
  const seconds = (t2 - t0) / 1000;
  process.stdout.write(JSON.stringify({
    seconds: Number(seconds.toFixed(3)),
    run_seconds: Number(((t1 - t0) / 1000).toFixed(3)),
    merge_and_save_seconds: Number(((t2 - t1) / 1000).toFixed(3)),
    params,
    input_gb_per_s: Number(((3 * params * 4) / 1e9 / seconds).toFixed(3)),
    max_rss_mb: maxRssMB(),
  }));
}

function child(stage: string, dir: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--stage', stage, '--dir', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stage ${stage} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function writeModels(dir: string, opts: RandomClipVisionOptions): number {
  const make = (name: string, o: RandomClipVisionOptions) => {
    mkdirSync(join(dir, name));
    return writeRandomClipVisionModel(join(dir, name), { ...opts, ...o });
  };
  const p = make('pretrained', { seed: 0 });
  make('ft-a', { seed: 1, base: { seed: 0, noise: 0.05 } });
  make('ft-b', { seed: 2, base: { seed: 0, noise: 0.05 } });
  return p.totalBytes;
}

async function main(): Promise<void> {
  if (values.stage !== undefined) return runStage(values.stage, values.dir!);
  const results: Record<string, unknown> = {};
  const dir = mkdtempSync(join(tmpdir(), 'fb-merge-bench-'));
  try {
    const modelBytes = writeModels(dir, { layers: Number(values.layers) });
    results.model = { layers: Number(values.layers), model_mb: Math.round(modelBytes / 1e6), peak_rss_target_mb: Math.round((1.5 * modelBytes) / 1e6) };
    results.task_arithmetic_3_models = child('ta', dir);
    results.ties_merging_3_models = child('ties', dir);
    if (values.scale) {
      for (const d of ['pretrained', 'ft-a', 'ft-b', 'merged-ta', 'merged-ties']) rmSync(join(dir, d), { recursive: true, force: true });
      const big = join(dir, 'scale');
      mkdirSync(big);
      const bytes = writeModels(big, { layers: Number(values['scale-layers']), hidden: 2048, mlp: 8192, heads: 16 });
      results.scale_task_arithmetic_3_models = { layers: Number(values['scale-layers']), model_mb: Math.round(bytes / 1e6), ...child('ta', big) };
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ bench: 'merge', ...results }, null, 2));
}

await main();
