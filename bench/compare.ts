/**
 * fusion-bench against PyTorch 1.13 + fusion_bench's own method code, side by side in one invocation,
 * interleaved (ours, then the reference, alternating the order per repetition) so that the machine's
 * load falls on both alike. Each figure comes with the exact command that produced it; `advantage` is
 * reference/ours for times and memory and ours/reference for rates (above 1: fusion-bench is ahead).
 *
 * Parts (`--only merge,clip,train,svd,regmean`, default all):
 * - merge: task arithmetic of 3 ViT-B/32 vision towers, and task arithmetic and TIES of pretrained + 8
 *   (the TA8 shape), through the whole CLI on both sides: ours is `fusion-bench method=... modelpool=...
 *   merged_model_save_path=...`; the reference is a Python process (start and `import torch` included)
 *   running fusion_bench's own TaskArithmeticAlgorithm / TiesMergingAlgorithm (its unmodified files,
 *   imported through bench/compare/fb_shims.py) on a pool that loads each checkpoint as
 *   `CLIPVisionModel.from_pretrained` does and saves as `save_pretrained` does. The reference is a lower
 *   bound on fusion_bench's CLI: hydra, lightning and transformers (not installable here) are not
 *   imported. The floor for these merges is bench/merge-floor.
 * - clip: forward images/s of the ViT-B/32 vision tower at `--batches`, `--threads` threads: ours on
 *   onnxruntime (dist/bench/clip-vision.js), torch on the transformers-equivalent module of
 *   bench/compare/clip_torch.py (checked against transformers' goldens first) under torch.no_grad(),
 *   each under the default allocator, jemalloc and tcmalloc; torch also on OpenBLAS and on the system's
 *   BLAS (Debian: the reference BLAS unless OpenBLAS is installed).
 * - train: forward + backward, batch `--train-batch`, zero-shot head + cross-entropy, gradients of all
 *   87.5M tower parameters: ours dist/bench/clip-vision-train.js, torch autograd.
 * - svd: TSV-M and Iso-CTS over `--svd-tasks` task vectors of ViT-B/32 towers cut to `--svd-layers`
 *   encoder layers (12 is the full model), through the CLI on both sides as for merge.
 * - regmean: equality, not speed. `regmean/clip_regmean` (fusion_bench's defaults: ratio 0.95, batches
 *   of 32) against fusion_bench's own RegMeanAlgorithmForCLIP (its unmodified regmean.py /
 *   clip_regmean.py, torch hooks on the tower of clip_torch.py) on the same towers and the same
 *   preprocessed images (every image of each train set: `--regmean-cases` demo = the demo's towers on
 *   its MNIST / Fashion-MNIST slices, fixtures = the fixtures' tiny-clip-ft-a/b on the same images):
 *   per-tensor max |ours − fusion_bench| of the merged weights and of each model's Gram matrices, and
 *   fusion_bench's merge function again in float64 to show where a difference comes from
 *   (bench/lib/regmean-reference.ts).
 *
 * `--torch-budget S`: a torch forward whose first batch takes longer is timed on that one run and its
 * larger batches skipped (the reference BLAS needs minutes per batch). `--reference-max-gb`: the
 * reference merge's address-space limit, so that a merge too big for the machine fails with
 * MemoryError instead of waking the OOM killer on a shared machine.
 *
 * Random float32 towers with the real tensor names and shapes are generated once and cached under
 * `--cache-dir` (default: <os.tmpdir()>/fusion-bench-compare). Prints JSON.
 * Usage: node dist/bench/compare.js [--only merge,clip,train,svd,regmean] [--reps 1] [--threads 2]
 *   [--merge ta3,ta8,ties8] [--batches 16,64] [--seconds 3] [--train-batch 16] [--train-steps 2]
 *   [--svd-layers 1] [--svd-tasks 8] [--svd-methods tsv,iso_cts] [--regmean-cases demo,fixtures] [--allocators default,jemalloc,tcmalloc] [--torch-blas openblas,system]
 *   [--torch-budget 60] [--reference-max-gb 14] [--python PY] [--fb-src DIR] [--fixtures DIR] [--cache-dir DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, readdirSync, rmSync, writeFileSync, mkdtempSync, renameSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openCheckpoint } from '../src/tensor/checkpoint.js';
import { compareRegMean, type RegMeanCase } from './lib/regmean-reference.js';
import { writeRandomClipVisionModel, type RandomClipVisionOptions } from './lib/random-model.js';
import {
  advantage, ALLOCATORS, commandLine, findTorchPython, fusionBenchSource, isNotMeasured, median, notMeasuredText, parseOnly,
  pythonCandidates, variantEnv, variantName, type Allocator, type Blas, type NotMeasured, type ProbeResult, type Variant,
} from './lib/compare-env.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/compare.js [--only merge,clip,train,svd,regmean] [--reps 1] [--threads 2]';
const { values } = benchArgs(USAGE, {
  options: {
    only: { type: 'string' },
    reps: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    merge: { type: 'string', default: 'ta3,ta8,ties8' },
    batches: { type: 'string', default: '16,64' },
    seconds: { type: 'string', default: '3' },
    'train-batch': { type: 'string', default: '16' },
    'train-steps': { type: 'string', default: '2' },
    'svd-layers': { type: 'string', default: '1' },
    'svd-tasks': { type: 'string', default: '8' },
    'svd-methods': { type: 'string', default: 'tsv,iso_cts' },
    'regmean-cases': { type: 'string', default: 'demo,fixtures' },
    allocators: { type: 'string', default: ALLOCATORS.join(',') },
    'torch-blas': { type: 'string', default: 'openblas,system' },
    'torch-budget': { type: 'string', default: '60' },
    'reference-max-gb': { type: 'string', default: '14' },
    python: { type: 'string' },
    'fb-src': { type: 'string' },
    fixtures: { type: 'string' },
    'cache-dir': { type: 'string' },
  },
});

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const repoRoot = resolve(here, '..', '..');
const referencePy = join(repoRoot, 'bench', 'compare', 'reference.py');
const binPath = join(repoRoot, 'bin', 'fusion-bench.js');
const rssPreload = pathToFileURL(join(here, 'lib', 'report-rss.js')).href;
const threads = Number(values.threads);
const reps = Number(values.reps);
const allocators = values.allocators.split(',').filter(Boolean) as Allocator[];
const torchBlas = values['torch-blas'].split(',').filter(Boolean) as Blas[];
const round = (x: number, d = 3) => Number(x.toFixed(d));

interface ChildResult {
  readonly command: string;
  readonly seconds: number;
  readonly max_rss_mb: number | undefined;
  readonly json: Record<string, unknown>;
}

/**
 * Runs one child to completion: wall seconds around it (process start included), its own peak RSS
 * (node children through bench/lib/report-rss; Python children report theirs), its JSON stdout.
 */
function runChild(argv: string[], extraEnv: Record<string, string>, cwd?: string): ChildResult | NotMeasured {
  const rssFile = join(mkdtempSync(join(tmpdir(), 'fb-compare-rss-')), 'rss');
  const isNode = argv[0] === process.execPath;
  const full = isNode ? [argv[0]!, '--import', rssPreload, ...argv.slice(1)] : argv;
  const env = { ...process.env, ...extraEnv, ...(isNode ? { FB_BENCH_RSS_FILE: rssFile } : {}) };
  const t0 = performance.now();
  const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8', env, cwd, maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  const command = commandLine(argv.map((a) => (a === process.execPath ? 'node' : a)), extraEnv);
  let rssKb: number | undefined;
  if (existsSync(rssFile)) rssKb = Number(readFileSync(rssFile, 'utf8'));
  rmSync(dirname(rssFile), { recursive: true, force: true });
  if (r.status !== 0) return { notMeasured: `${command} failed (${r.signal ?? `exit ${r.status}`}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}` };
  let json: Record<string, unknown> = {};
  try {
    // The benchmarks print one JSON object (maybe pretty-printed) after any log lines.
    const at = r.stdout.indexOf('{');
    if (at >= 0) json = JSON.parse(r.stdout.slice(at)) as Record<string, unknown>;
  } catch {
    json = {};
  }
  const selfRss = typeof json.max_rss_mb === 'number' ? json.max_rss_mb : typeof json.peak_rss_mb === 'number' ? json.peak_rss_mb : undefined;
  return { command, seconds: round(seconds), max_rss_mb: rssKb !== undefined ? Math.round(rssKb / 1024) : selfRss, json };
}

// --- the reference's prerequisites --------------------------------------------------------------------

function probeTorch(python: string): ProbeResult {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, version: r.stdout.trim() };
  return { ok: false, error: r.error?.message ?? r.stderr ?? `exit ${r.status}` };
}

const torchPy = findTorchPython(pythonCandidates(values.python, process.env), probeTorch);
const fbSrc = fusionBenchSource(values['fb-src'], process.env, existsSync);
const fixtures = values.fixtures ?? join(repoRoot, '..', 'shared', 'fixtures', 'clip');

function envFor(v: Variant): Record<string, string> | NotMeasured {
  return variantEnv(v, threads, process.env, existsSync);
}

/** The torch tower is timed only once it reproduces transformers' goldens (and fusion_bench's TA its golden). */
function referenceCheck(): Record<string, unknown> | NotMeasured {
  if (isNotMeasured(torchPy)) return torchPy;
  if (!existsSync(join(fixtures, 'golden', 'tiny-clip'))) return { notMeasured: `fixtures absent at ${fixtures} (--fixtures DIR)` };
  const argv = [torchPy.python, referencePy, 'check', '--fixtures', fixtures, ...(isNotMeasured(fbSrc) ? [] : ['--fb-src', fbSrc])];
  const r = runChild(argv, {});
  return isNotMeasured(r) ? r : { command: r.command, ...r.json };
}

// --- models -------------------------------------------------------------------------------------------

const cacheRoot = values['cache-dir'] ?? join(tmpdir(), 'fusion-bench-compare');

/** pretrained + `tasks` fine-tuned random towers of `layers` layers, cached; returns their folders. */
function models(layers: number, tasks: number): string[] {
  const root = join(cacheRoot, `vit-b32-L${layers}`);
  const make = (name: string, o: RandomClipVisionOptions): string => {
    const dir = join(root, name);
    if (existsSync(join(dir, '.complete'))) return dir;
    rmSync(dir, { recursive: true, force: true });
    const tmp = `${dir}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    writeRandomClipVisionModel(tmp, { layers, ...o });
    writeFileSync(join(tmp, '.complete'), '');
    renameSync(tmp, dir);
    return dir;
  };
  const dirs = [make('pretrained', { seed: 0 })];
  for (let i = 0; i < tasks; i++) dirs.push(make(`ft-${i}`, { seed: i + 1, base: { seed: 0, noise: 0.05 } }));
  return dirs;
}

/** Reads every file once so that both sides start from a warm page cache. */
function warm(dirs: readonly string[]): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (const d of dirs) {
    for (const f of readdirSync(d)) {
      const fd = openSync(join(d, f), 'r');
      while (readSync(fd, buf, 0, buf.length, null) > 0);
      closeSync(fd);
    }
  }
}

/** A config dir with one CLIPVisionModelPool over `dirs` (the first is `_pretrained_`). */
function poolConfig(work: string, dirs: readonly string[]): string {
  const conf = join(work, 'conf');
  mkdirSync(join(conf, 'modelpool'), { recursive: true });
  const lines = ['_target_: fusion_bench.modelpool.CLIPVisionModelPool', '_recursive_: false', 'processor: null', 'models:', `  _pretrained_: ${dirs[0]}`];
  dirs.slice(1).forEach((d, i) => lines.push(`  task${i}: ${d}`));
  writeFileSync(join(conf, 'modelpool', 'compare_pool.yaml'), lines.concat('platform: hf', '').join('\n'));
  return conf;
}

interface MergeJob {
  readonly name: string;
  readonly cli: string[]; // method overrides for our CLI
  readonly py: string[]; // reference.py merge arguments
  readonly layers: number;
  readonly tasks: number;
}

const MERGE_JOBS: Record<string, Omit<MergeJob, 'name' | 'layers'>> = {
  ta3: { cli: ['method=task_arithmetic', 'method.scaling_factor=0.3'], py: ['--method', 'ta', '--scaling', '0.3'], tasks: 2 },
  ta8: { cli: ['method=task_arithmetic', 'method.scaling_factor=0.3'], py: ['--method', 'ta', '--scaling', '0.3'], tasks: 8 },
  ties3: { cli: ['method=ties_merging'], py: ['--method', 'ties', '--scaling', '0.3'], tasks: 2 },
  ties8: { cli: ['method=ties_merging'], py: ['--method', 'ties', '--scaling', '0.3'], tasks: 8 },
};

/** Summary of one side's repetitions: every figure, the median, the command. */
function sideSummary(runs: (ChildResult | NotMeasured)[], pick: (r: ChildResult) => number | undefined): Record<string, unknown> & { median?: number; rss?: number; failed?: NotMeasured } {
  const ok = runs.filter((r): r is ChildResult => !isNotMeasured(r));
  const failed = runs.find(isNotMeasured);
  if (ok.length === 0) return { result: failed ? notMeasuredText(failed) : 'not measured', failed: failed ?? { notMeasured: 'no run' } };
  const vals = ok.map(pick).filter((x): x is number => x !== undefined);
  const rss = ok.map((r) => r.max_rss_mb).filter((x): x is number => x !== undefined);
  return { command: ok[0]!.command, values: vals, median: median(vals), max_rss_mb: rss.length ? Math.max(...rss) : undefined, rss: rss.length ? Math.max(...rss) : undefined, ...(failed ? { failed_runs: notMeasuredText(failed) } : {}) };
}

/** A side's figure, or (its run having failed) a short pointer to the reason printed under `result`. */
function failedOr(s: { failed?: NotMeasured }, x: number | undefined): number | NotMeasured | undefined {
  return s.failed && x === undefined ? { notMeasured: 'the run failed (see its result)' } : x;
}

function clean(s: Record<string, unknown>): Record<string, unknown> {
  const { rss: _r, failed: _f, ...rest } = s;
  return rest;
}

/**
 * How far our merged model is from the reference's: the largest |ours − reference| over all tensors,
 * relative to that tensor's largest |reference| (the last reference variant's output).
 */
function compareOutputs(oursDir: string, refDir: string): Record<string, unknown> {
  const a = openCheckpoint(oursDir), b = openCheckpoint(refDir);
  try {
    const missing = b.names().filter((n) => !a.has(n));
    let worst = 0, worstName = '';
    for (const n of b.names()) {
      if (!a.has(n)) continue;
      const x = a.loadF32(n), y = b.loadF32(n);
      let d = 0, m = 0;
      for (let i = 0; i < y.length; i++) { d = Math.max(d, Math.abs(x[i]! - y[i]!)); m = Math.max(m, Math.abs(y[i]!)); }
      const rel = m > 0 ? d / m : d;
      if (rel > worst) { worst = rel; worstName = n; }
    }
    return { tensors: b.names().length, missing_in_ours: missing.length, max_rel_diff: Number(worst.toPrecision(3)), ...(worstName ? { at: worstName } : {}) };
  } finally {
    a.close?.();
    b.close?.();
  }
}

/** Ours (CLI) and the reference (reference.py merge, under each of `refVariants`) on the same models, interleaved. */
function mergeComparison(job: MergeJob, refVariants: readonly Variant[]): Record<string, unknown> {
  const dirs = models(job.layers, job.tasks);
  warm(dirs);
  const work = mkdtempSync(join(tmpdir(), 'fb-compare-merge-'));
  try {
    const conf = poolConfig(work, dirs);
    const ours: (ChildResult | NotMeasured)[] = [];
    const ref = new Map<string, (ChildResult | NotMeasured)[]>(refVariants.map((v) => [variantName(v), []]));
    const defaultEnv = envFor({ allocator: 'default' }) as Record<string, string>;
    // The first repetition's outputs are kept until both sides have run, to compare them.
    const oursOut = join(work, 'merged-ours'), refOut = join(work, 'merged-ref');
    const runOurs = () => {
      rmSync(oursOut, { recursive: true, force: true });
      ours.push(runChild([process.execPath, binPath, '--config-dir', conf, ...job.cli, 'modelpool=compare_pool', 'taskpool=dummy', `merged_model_save_path=${oursOut}`, 'print_config=false'], defaultEnv, work));
    };
    const runRef = (v: Variant) => {
      const runs = ref.get(variantName(v))!;
      const env = envFor(v);
      if (isNotMeasured(torchPy)) return runs.push(torchPy);
      if (isNotMeasured(fbSrc)) return runs.push(fbSrc);
      if (isNotMeasured(env)) return runs.push(env);
      rmSync(refOut, { recursive: true, force: true });
      runs.push(runChild([torchPy.python, referencePy, '--threads', String(threads), 'merge', '--fb-src', fbSrc, ...job.py, '--max-gb', values['reference-max-gb'], '--out', refOut, '--models', ...dirs], env, work));
    };
    let outputs: Record<string, unknown> | string = 'not compared: a side has no output';
    for (let r = 0; r < reps; r++) {
      if (r % 2 === 0) { runOurs(); refVariants.forEach(runRef); } else { refVariants.forEach(runRef); runOurs(); }
      if (r === 0 && existsSync(join(oursOut, 'config.json')) && existsSync(join(refOut, 'config.json'))) outputs = compareOutputs(oursOut, refOut);
    }
    const o = sideSummary(ours, (c) => c.seconds);
    const refs = [...ref].map(([k, runs]) => [k, sideSummary(runs, (c) => c.seconds)] as const);
    return {
      job: job.name, models: dirs.length, layers: job.layers,
      outputs_ours_vs_reference: outputs,
      ours: clean(o),
      reference: Object.fromEntries(refs.map(([k, f]) => [k, {
        ...clean(f),
        advantage_time: advantage(failedOr(o, o.median), failedOr(f, f.median), 'time'),
        advantage_peak_rss: advantage(failedOr(o, o.rss), failedOr(f, f.rss), 'time'),
      }])),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// --- CLIP tower ---------------------------------------------------------------------------------------

const batches = values.batches.split(',').map(Number);

function ourForward(alloc: Allocator): ChildResult | NotMeasured {
  const env = envFor({ allocator: alloc });
  if (isNotMeasured(env)) return env;
  return runChild([process.execPath, join(here, 'clip-vision.js'), '--batches', values.batches, '--threads', String(threads), '--seconds', values.seconds], env);
}

function torchForward(v: Variant, check: Record<string, unknown> | NotMeasured): ChildResult | NotMeasured {
  if (isNotMeasured(torchPy)) return torchPy;
  if (isNotMeasured(check)) return { notMeasured: `reference tower unchecked: ${check.notMeasured}` };
  const env = envFor(v);
  if (isNotMeasured(env)) return env;
  return runChild([torchPy.python, referencePy, '--threads', String(threads), 'forward', '--batches', values.batches, '--seconds', values.seconds, '--budget', values['torch-budget']], env);
}

function rateAt(r: ChildResult | NotMeasured, batch: number, key: string): number | NotMeasured {
  if (isNotMeasured(r)) return r;
  const row = (r.json.results as Record<string, unknown>[] | undefined)?.find((x) => x.batch === batch);
  if (row === undefined) return { notMeasured: `batch ${batch} not run` };
  if (typeof row[key] !== 'number') return { notMeasured: String(row.skipped ?? `no ${key}`) };
  return row[key] as number;
}

function torchVariants(): Variant[] {
  const out: Variant[] = [];
  for (const blas of torchBlas) {
    // On the reference BLAS one batch takes minutes; the allocator cannot matter there.
    for (const allocator of blas === 'system' ? (['default'] as Allocator[]) : allocators) out.push({ blas, allocator });
  }
  return out;
}

function clipComparison(check: Record<string, unknown> | NotMeasured): Record<string, unknown> {
  const ours = new Map<string, (ChildResult | NotMeasured)[]>();
  const ref = new Map<string, (ChildResult | NotMeasured)[]>();
  const push = (m: typeof ours, k: string, r: ChildResult | NotMeasured) => m.set(k, [...(m.get(k) ?? []), r]);
  const tv = torchVariants();
  for (let rep = 0; rep < reps; rep++) {
    // Interleaved: for each allocator, ours then torch-on-OpenBLAS with the same allocator; the rest after.
    for (const a of allocators) {
      push(ours, a, ourForward(a));
      for (const v of tv.filter((x) => x.allocator === a && x.blas === 'openblas')) push(ref, variantName(v), torchForward(v, check));
    }
    for (const v of tv.filter((x) => x.blas !== 'openblas')) push(ref, variantName(v), torchForward(v, check));
  }
  const rows = [];
  for (const batch of batches) {
    const summarise = (runs: (ChildResult | NotMeasured)[], key: string) => sideSummary(runs, (c) => { const x = rateAt(c, batch, key); return isNotMeasured(x) ? undefined : x; });
    const o = Object.fromEntries([...ours].map(([k, runs]) => [`${k}-malloc`, summarise(runs, 'tensor_images_per_s')]));
    const t = Object.fromEntries([...ref].map(([k, runs]) => [k, summarise(runs, 'images_per_s')]));
    const best = (m: Record<string, { median?: number }>) => Math.max(0, ...Object.values(m).map((x) => x.median ?? 0));
    const bestOurs = best(o), bestRef = best(t);
    const skipped = [...ref].map(([k, runs]) => { const r = runs.find((x) => !isNotMeasured(x)); const x = r ? rateAt(r, batch, 'images_per_s') : runs[0]!; return isNotMeasured(x) ? `${k}: ${x.notMeasured}` : null; }).filter(Boolean);
    rows.push({
      batch,
      ours_images_per_s: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, clean(v)])),
      reference_images_per_s: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, clean(v)])),
      ...(skipped.length ? { reference_not_measured: skipped } : {}),
      advantage_best_vs_best: advantage(bestOurs || { notMeasured: 'no run of ours' }, bestRef || { notMeasured: 'no run of the reference' }, 'rate'),
    });
  }
  return { threads, results: rows };
}

function trainComparison(check: Record<string, unknown> | NotMeasured): Record<string, unknown> {
  const batch = values['train-batch'], steps = values['train-steps'];
  const ours = new Map<string, (ChildResult | NotMeasured)[]>();
  const ref = new Map<string, (ChildResult | NotMeasured)[]>();
  const push = (m: typeof ours, k: string, r: ChildResult | NotMeasured) => m.set(k, [...(m.get(k) ?? []), r]);
  const tv = torchVariants().filter((v) => v.blas === 'openblas' || torchBlas.length === 1);
  for (let rep = 0; rep < reps; rep++) {
    for (const a of allocators) {
      const env = envFor({ allocator: a });
      push(ours, `${a}-malloc`, isNotMeasured(env) ? env : runChild([process.execPath, join(here, 'clip-vision-train.js'), '--batch', batch, '--steps', steps, '--threads', String(threads)], env));
      for (const v of tv.filter((x) => x.allocator === a)) {
        const venv = envFor(v);
        const r = isNotMeasured(torchPy) ? torchPy : isNotMeasured(check) ? { notMeasured: `reference tower unchecked: ${check.notMeasured}` } : isNotMeasured(venv) ? venv
          : runChild([torchPy.python, referencePy, '--threads', String(threads), 'train', '--batch', batch, '--steps', steps], venv);
        push(ref, variantName(v), r);
      }
    }
  }
  const pick = (c: ChildResult) => (typeof c.json.forward_backward_images_per_s === 'number' ? c.json.forward_backward_images_per_s : undefined);
  const o = Object.fromEntries([...ours].map(([k, runs]) => [k, sideSummary(runs, pick)]));
  const t = Object.fromEntries([...ref].map(([k, runs]) => [k, sideSummary(runs, pick)]));
  const best = (m: Record<string, { median?: number }>) => Math.max(0, ...Object.values(m).map((x) => x.median ?? 0));
  return {
    batch: Number(batch), steps: Number(steps), threads,
    ours_images_per_s: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, clean(v)])),
    reference_images_per_s: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, clean(v)])),
    advantage_best_vs_best: advantage(best(o) || { notMeasured: 'no run of ours' }, best(t) || { notMeasured: 'no run of the reference' }, 'rate'),
  };
}

// --- regmean ------------------------------------------------------------------------------------------

/** The pools of the `regmean` part: towers, and the demo's parquet slices as every task's train set. */
function regmeanCase(name: string): RegMeanCase | NotMeasured {
  const demo = join(repoRoot, 'demo');
  const slice = (n: string) => ({ _target_: 'datasets.load_dataset', path: 'parquet', data_files: { train: join(demo, 'data', n, 'data', 'test-00000-of-00001.parquet') }, split: 'train' });
  const dirs = name === 'demo'
    ? { root: join(demo, 'models'), pre: 'tiny-clip', a: 'tiny-clip-mnist', b: 'tiny-clip-fashion_mnist' }
    : name === 'fixtures' ? { root: join(fixtures, 'models'), pre: 'tiny-clip', a: 'tiny-clip-ft-a', b: 'tiny-clip-ft-b' } : null;
  if (!dirs) throw new Error(`--regmean-cases: unknown case '${name}'; expected some of demo,fixtures`);
  if (!existsSync(join(dirs.root, dirs.a))) return { notMeasured: `${join(dirs.root, dirs.a)} absent${name === 'fixtures' ? ' (--fixtures DIR)' : ''}` };
  const m = (n: string) => join(dirs.root, n);
  return {
    models: { _pretrained_: m(dirs.pre), mnist: m(dirs.a), fashion_mnist: m(dirs.b) },
    processor: m(dirs.pre),
    trainDatasets: { mnist: slice('mnist'), fashion_mnist: slice('fashion_mnist') },
    // fusion_bench's defaults, with enough examples for every image (500 per slice): the two sides' shuffles differ.
    method: { num_regmean_examples: 512 },
  };
}

async function regmeanComparison(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const name of values['regmean-cases'].split(',').filter(Boolean)) {
    const c = regmeanCase(name);
    const why = isNotMeasured(torchPy) ? torchPy : isNotMeasured(fbSrc) ? fbSrc : isNotMeasured(c) ? c : null;
    if (why) {
      out.push({ case: name, result: notMeasuredText(why) });
      continue;
    }
    try {
      out.push({ case: name, ...(await compareRegMean(c as RegMeanCase, { python: (torchPy as { python: string }).python, fbSrc: fbSrc as string, threads })) });
    } catch (e) {
      out.push({ case: name, result: notMeasuredText({ notMeasured: (e as Error).message }) });
    }
  }
  return out;
}

// --- main ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const parts = parseOnly(values.only);
  const started = new Date().toISOString();
  const out: Record<string, unknown> = {
    bench: 'compare',
    started,
    load_average_at_start: loadavg().map((x) => round(x, 2)),
    reference_python: isNotMeasured(torchPy) ? notMeasuredText(torchPy) : torchPy,
    fusion_bench_source: isNotMeasured(fbSrc) ? notMeasuredText(fbSrc) : fbSrc,
    reps,
  };
  const needsTower = parts.includes('clip') || parts.includes('train');
  const check = needsTower || parts.includes('merge') ? referenceCheck() : { notMeasured: 'not needed' };
  out.reference_check = isNotMeasured(check) ? notMeasuredText(check) : check;
  if (!isNotMeasured(check)) {
    const errs = check.tower_max_rel_err as Record<string, number> | undefined;
    if (errs && Object.values(errs).some((e) => !(e < 1e-4))) out.reference_check_failed = 'the torch tower differs from transformers\' goldens by more than 1e-4';
  }
  const tower = out.reference_check_failed ? { notMeasured: String(out.reference_check_failed) } : check;
  if (parts.includes('merge')) {
    out.merge = values.merge.split(',').filter(Boolean).map((name) => {
      const j = MERGE_JOBS[name];
      if (!j) throw new Error(`--merge: unknown job '${name}'; expected some of ${Object.keys(MERGE_JOBS).join(',')}`);
      return mergeComparison({ name, layers: 12, ...j }, [{ blas: 'system', allocator: 'default' }]);
    });
    out.merge_floor = 'bench/merge-floor (the C floor program for these merges) reports the floor and the ratio to it';
  }
  if (parts.includes('clip')) out.clip_forward = clipComparison(tower);
  if (parts.includes('train')) out.clip_forward_backward = trainComparison(tower);
  if (parts.includes('svd')) {
    const layers = Number(values['svd-layers']), tasks = Number(values['svd-tasks']);
    const jobs: Record<string, Omit<MergeJob, 'layers' | 'tasks'>> = {
      tsv: { name: `tsv_m_${tasks}`, cli: ['method=task_singular_vector/TaskSingularVectorMerging', 'method.alpha=1'], py: ['--method', 'tsv', '--scaling', '1'] },
      iso_cts: { name: `iso_cts_${tasks}`, cli: ['method=isotropic_merging/iso_cts', 'method.scaling_factor=1.0', 'method.common_space_fraction=0.8'], py: ['--method', 'iso_cts', '--scaling', '1'] },
    };
    out.svd = values['svd-methods'].split(',').filter(Boolean).map((m) => {
      const j = jobs[m];
      if (!j) throw new Error(`--svd-methods: unknown method '${m}'; expected some of ${Object.keys(jobs).join(',')}`);
      return mergeComparison({ ...j, layers, tasks }, torchBlas.map((blas) => ({ blas, allocator: 'default' as Allocator })));
    });
  }
  if (parts.includes('regmean')) out.regmean = await regmeanComparison();
  out.load_average_at_end = loadavg().map((x) => round(x, 2));
  console.log(JSON.stringify(out, null, 2));
}

await main();
