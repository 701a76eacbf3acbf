/**
 * Merge speed against the hardware floor (issue 13): task arithmetic and TIES (threshold 20, merge sum,
 * λ 0.3 — fusion_bench's configs) of a TA8-shaped pool — a pretrained and 8 fine-tuned CLIP ViT-B/32
 * vision towers, float32, 350 MB each, real tensor names and shapes — run through our library (open the
 * pool, merge, save model.safetensors) and through a small C program (bench/floor/merge_floor.c, built
 * here with `cc -O3 -march=native`) that reads every input once per pass in 1 MiB chunks and writes the result once.
 *
 * Runs are interleaved (ours, floor, ours, floor …) in fresh child processes so that load on the
 * machine hits both alike; each run's wall time and peak RSS (/usr/bin/time's maximum resident set, or
 * the child's own getrusage) are printed as JSON with the median ratio to the floor. Outputs are checked
 * to agree within 1e-5. Without a C compiler the floor is "not measured".
 *
 * The pool is generated once and kept under os.tmpdir()/fusion-bench-floor-pool (reused by later runs;
 * `--clean` removes it). `--dtype F16|BF16` merges half-precision copies (the floor widens them with
 * F16C's vcvtph2ps where the compiler and CPU have it); the output is float32 either way (fusion_bench's
 * rule for a CLIP pool). Compare input_gb_per_s with a float32 run.
 *
 * Each side runs once untimed first (page cache, the floor's build), then `--runs` interleaved timed runs.
 * `--marginal K` also times both sides on the base and the first K fine-tuned models in every round and
 * reports marginal_input_gb_per_s: the extra input bytes of the full pool over the median extra time they
 * take — the streaming rate with the fixed costs (start-up, the float32 output's write, replacing the old
 * output) taken out, which is what comparing float32 with half-precision inputs needs.
 *
 * `--torch-dtype float16|bfloat16|float32|auto` gives every pool entry that torch_dtype, so our merge
 * saves in it (auto: the stored dtype), and the floor writes the same dtype (`--out-dtype`, rounding its
 * float32 results once to nearest even, as our save does).
 *
 * `--atomic-floor` also runs the floor writing as we do (a temporary file renamed over the old output),
 * reported as floor_atomic: the floor's O_TRUNC frees the old output's page-cache pages before it writes
 * and reuses them at once, while an atomic save needs fresh pages — which on VMs that hand free memory
 * back to the host (virtio-balloon free page reporting) cost up to ~1 s per 350 MB.
 *
 * `--cli` runs ours as a user does: `fusion-bench method=task_arithmetic|ties_merging … modelpool=<this pool>
 * taskpool=dummy merged_model_save_path=…` (composition, the program, the report), not the library call.
 *
 * Usage: node dist/bench/merge-floor.js [--models 8] [--scale full|small] [--runs 3] [--methods ta,ties]
 *        [--dtype F32|F16|BF16] [--marginal K] [--torch-dtype D] [--atomic-floor] [--cli] [--clean]
 * `--scale small` uses 2 encoder layers (~16M parameters, 64 MB per model) for a quick run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TaskArithmeticAlgorithm } from '../src/method/task-arithmetic.js';
import { TiesMergingAlgorithm } from '../src/method/ties-merging.js';
import { CLIPVisionModelPool } from '../src/modelpool/clip-vision-pool.js';
import { bf16ToF32, f16ToF32, isFloatDType } from '../src/tensor/dtype.js';
import { openSafetensors } from '../src/tensor/safetensors-read.js';
import type { DType } from '../src/tensor/types.js';
import { ensurePool, FLOOR_POOL_CACHE, modelDirs } from './lib/floor-pool.js';
import { benchArgs } from './lib/args.js';

const LAMBDA = 0.3;
const THRESHOLD = 20;
const TOLERANCE = 1e-5;

const USAGE = 'usage: node dist/bench/merge-floor.js [--models 8] [--scale full|small] [--runs 3] [--methods ta,ties] [--dtype F32|F16|BF16] [--marginal K] [--torch-dtype D] [--atomic-floor] [--cli] [--clean]';
const { values } = benchArgs(USAGE, {
  options: {
    models: { type: 'string', default: '8' },
    scale: { type: 'string', default: 'full' },
    layers: { type: 'string' },
    runs: { type: 'string', default: '3' },
    marginal: { type: 'string' },
    'torch-dtype': { type: 'string' },
    'atomic-floor': { type: 'boolean', default: false },
    cli: { type: 'boolean', default: false },
    methods: { type: 'string', default: 'ta,ties' },
    dtype: { type: 'string', default: 'F32' },
    clean: { type: 'boolean', default: false },
    stage: { type: 'string' },
    pool: { type: 'string' },
    out: { type: 'string' },
  },
});

type Method = 'ta' | 'ties';

/** Inside the child: merge through the library and save, then report our own peak RSS. */
async function runStage(method: Method, poolDir: string, count: number, out: string): Promise<void> {
  const t0 = performance.now();
  const { base, finetuned } = modelDirs(poolDir, count);
  // --torch-dtype: each entry as a from_pretrained call with that torch_dtype (the merge saves in it)
  const torchDtype = values['torch-dtype'];
  const entry = (dir: string) => (torchDtype === undefined ? dir : { _target_: 'transformers.CLIPVisionModel.from_pretrained', pretrained_model_name_or_path: dir, torch_dtype: torchDtype });
  const models: Record<string, unknown> = { _pretrained_: entry(base) };
  finetuned.forEach((d, k) => (models[`task${k + 1}`] = entry(d)));
  const pool = new CLIPVisionModelPool({ models });
  const algo = method === 'ties'
    ? new TiesMergingAlgorithm({ scaling_factor: LAMBDA, threshold: THRESHOLD, remove_keys: [], merge_func: 'sum' })
    : new TaskArithmeticAlgorithm({ scaling_factor: LAMBDA });
  const merged = await algo.run(pool);
  const t1 = performance.now();
  await pool.saveModel(merged, out);
  merged.stateDict.close?.();
  const t2 = performance.now();
  // performance.now() counts from the process's start: t0 is Node's start-up plus loading our modules
  process.stdout.write(JSON.stringify({ startup_s: t0 / 1000, run_s: (t1 - t0) / 1000, merge_and_save_s: (t2 - t1) / 1000, self_max_rss_mb: process.resourceUsage().maxRSS / 1024 }));
}

/** The floating tensors' file byte ranges, in data order; every model must share the layout. */
function floatRanges(files: string[]): { ranges: [number, number][]; names: string[]; params: number; inputBytes: number } {
  const sf = files.map((f) => openSafetensors(f));
  try {
    const ref = sf[0]!;
    const ranges: [number, number][] = [];
    const names: string[] = [];
    let params = 0;
    for (const name of ref.names()) {
      const e = ref.entry(name);
      for (const o of sf) {
        const x = o.entry(name);
        if (o.dataStart !== ref.dataStart || x.begin !== e.begin || x.end !== e.end) throw new Error(`${o.path}: layout differs from ${ref.path}`);
      }
      if (!isFloatDType(e.dtype)) continue;
      ranges.push([ref.dataStart + e.begin, ref.dataStart + e.end]);
      names.push(name);
      params += e.shape.reduce((a, b) => a * b, 1);
    }
    return { ranges, names, params, inputBytes: sf.reduce((s, f) => s + f.fileSize, 0) };
  } finally {
    for (const f of sf) f.close();
  }
}

/** Builds the floor program once per source version; a reason when it cannot be built. */
function buildFloor(cacheDir: string): string | { reason: string } {
  const src = fileURLToPath(new URL('../../bench/floor/merge_floor.c', import.meta.url));
  if (!existsSync(src)) return { reason: `floor not measured (${src} is missing)` };
  // The floor is the best this C compiles to here: -O3 with the host's vector instructions (at -O2, gcc 12
  // leaves the loops scalar and TIES' floor takes 4x as long); -O2 only where the compiler refuses that.
  // -ffp-contract=off: no fused multiply-adds, the same float32 roundings as ours.
  for (const flags of [['-O3', '-march=native'], ['-O2']]) {
    const hash = createHash('sha256').update(readFileSync(src)).update(flags.join(' ')).digest('hex').slice(0, 12);
    const bin = join(cacheDir, `merge_floor-${hash}`);
    if (existsSync(bin)) return bin;
    try {
      execFileSync(process.env.CC ?? 'cc', [...flags, '-ffp-contract=off', '-o', bin, src], { stdio: ['ignore', 'ignore', 'pipe'] });
      return bin;
    } catch (e) {
      const err = e as { code?: string; stderr?: Buffer };
      if (err.code === 'ENOENT') return { reason: 'floor not measured (no C compiler: cc)' };
      if (flags[0] === '-O2') return { reason: `floor not measured (cc failed: ${String(err.stderr ?? e).split('\n')[0]})` };
    }
  }
  return { reason: 'floor not measured' };
}

const HAS_TIME = existsSync('/usr/bin/time');

interface Run {
  wall_s: number;
  /** user + system CPU seconds (with /usr/bin/time): steadier than wall time on a loaded machine. */
  cpu_s: number | null;
  peak_rss_mb: number | null;
  detail?: Record<string, unknown>;
}

/** Runs a command, timing it from spawn to exit; peak RSS and CPU time from /usr/bin/time when present. */
function timed(cmd: string, args: string[]): { run: Run; stdout: string; stderr: string } {
  const rssFile = join(tmpdir(), `merge-floor-rss-${process.pid}`);
  // The previous run's output (350 MB) goes to disk first, untimed: otherwise its write-back overlaps the
  // next run, whichever side that is, and the runs' times swing by half.
  spawnSync('sync');
  const [file, argv] = HAS_TIME ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(file, argv, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  let rss: number | null = null;
  let cpu: number | null = null;
  if (HAS_TIME) {
    const [kb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    rss = kb! / 1024;
    cpu = user! + sys!;
    rmSync(rssFile, { force: true });
  }
  return { run: { wall_s: round(wall), cpu_s: cpu === null ? null : round(cpu, 2), peak_rss_mb: rss === null ? null : Math.round(rss) }, stdout: r.stdout, stderr: r.stderr };
}

const round = (x: number, d = 3) => Number(x.toFixed(d));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** One run of the CLI on the pool (a model pool config written into `work` for it). */
function runCli(method: Method, poolDir: string, count: number, out: string, work: string, torchDtype: string | undefined): Run {
  const confDir = join(work, `conf-${count}`);
  mkdirSync(join(confDir, 'modelpool'), { recursive: true });
  const { base, finetuned } = modelDirs(poolDir, count);
  const entry = (dir: string) => (torchDtype === undefined ? JSON.stringify(dir) : JSON.stringify({ _target_: 'transformers.CLIPVisionModel.from_pretrained', pretrained_model_name_or_path: dir, torch_dtype: torchDtype }));
  const lines = [`  _pretrained_: ${entry(base)}`, ...finetuned.map((d, k) => `  task${k + 1}: ${entry(d)}`)];
  writeFileSync(join(confDir, 'modelpool', 'floor_pool.yaml'), `_target_: fusion_bench.modelpool.CLIPVisionModelPool\nmodels:\n${lines.join('\n')}\n`);
  const methodArgs = method === 'ties'
    ? ['method=ties_merging', `method.scaling_factor=${LAMBDA}`, `method.threshold=${THRESHOLD}`, 'method.merge_func=sum']
    : ['method=task_arithmetic', `method.scaling_factor=${LAMBDA}`];
  const bin = fileURLToPath(new URL('../../bin/fusion-bench.js', import.meta.url));
  const { run } = timed(process.execPath, [bin, '--config-dir', confDir, ...methodArgs, 'modelpool=floor_pool', 'taskpool=dummy', `merged_model_save_path=${out}`, `hydra.run.dir=${join(work, 'cli-run')}`]);
  return run;
}

/** Largest |ours − floor| over the merged tensors. */
function maxDiff(oursFile: string, floorFile: string, names: string[], floorDtype: DType): number {
  const ours = openSafetensors(oursFile);
  const floorBytes = readFileSync(floorFile);
  const halves = () => new Uint16Array(floorBytes.buffer, floorBytes.byteOffset, floorBytes.byteLength / 2);
  const floor =
    floorDtype === 'F16' ? f16ToF32(halves()) : floorDtype === 'BF16' ? bf16ToF32(halves()) : new Float32Array(floorBytes.buffer, floorBytes.byteOffset, floorBytes.byteLength / 4);
  let at = 0;
  let worst = 0;
  try {
    for (const name of names) {
      const a = ours.loadF32(name);
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i]! - floor[at + i]!);
        if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
      }
      at += a.length;
    }
  } finally {
    ours.close();
  }
  if (at !== floor.length) return Infinity;
  return worst;
}

async function main(): Promise<void> {
  const count = Number(values.models);
  if (values.stage !== undefined) return runStage(values.stage as Method, values.pool!, count, values.out!);
  const layers = Number(values.layers ?? (values.scale === 'small' ? 2 : 12));
  const dtype = values.dtype as DType;
  if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new Error(`--dtype must be F32, F16 or BF16, got ${dtype}`);
  const runs = Number(values.runs);
  const marginalFrom = values.marginal === undefined ? null : Number(values.marginal);
  const torchDtype = values['torch-dtype'];
  const SAVED: Record<string, DType> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', auto: dtype };
  if (torchDtype !== undefined && !(torchDtype in SAVED)) throw new Error(`--torch-dtype must be one of ${Object.keys(SAVED).join(', ')}, got ${torchDtype}`);
  // fusion_bench's CLIP pool: float32 unless the entries say otherwise
  const outDtype: DType = torchDtype === undefined ? 'F32' : SAVED[torchDtype]!;
  if (outDtype !== 'F32' && outDtype !== dtype) {
    throw new Error(`--torch-dtype ${torchDtype} on ${dtype} inputs rounds them before merging, which the floor (reading them as stored) does not: merge a --dtype ${outDtype} pool instead`);
  }
  if (marginalFrom !== null && !(Number.isInteger(marginalFrom) && marginalFrom >= 1 && marginalFrom < count)) throw new Error(`--marginal must be a whole number of fine-tuned models from 1 to ${count - 1}, got ${values.marginal}`);
  const methods = values.methods!.split(',') as Method[];
  const cacheDir = FLOOR_POOL_CACHE;
  if (values.clean) {
    rmSync(cacheDir, { recursive: true, force: true });
    console.log(JSON.stringify({ bench: 'merge-floor', removed: cacheDir }));
    return;
  }
  const poolDir = join(cacheDir, `${dtype}-layers${layers}`);
  ensurePool(poolDir, count, layers, dtype, 'merge-floor');
  const { base, finetuned } = modelDirs(poolDir, count);
  const files = [base, ...finetuned].map((d) => join(d, 'model.safetensors'));
  const { ranges, names, params, inputBytes } = floatRanges(files);
  const rangesFile = join(poolDir, 'ranges.txt');
  writeFileSync(rangesFile, ranges.map(([b, e]) => `${b} ${e}`).join('\n') + '\n');
  const built = buildFloor(cacheDir);
  const floorBin = typeof built === 'string' ? built : null;
  const work = join(poolDir, `out-${process.pid}`);
  mkdirSync(work, { recursive: true });

  const results: Record<string, unknown> = {};
  try {
    for (const method of methods) {
      const ours: Run[] = [];
      const floor: Run[] = [];
      const oursDir = join(work, `ours-${method}`);
      const floorOut = join(work, `floor-${method}.bin`);
      const runOurs = (models: number): Run => {
        if (values.cli) return runCli(method, poolDir, models, oursDir, work, values['torch-dtype']);
        const { run, stdout } = timed(process.execPath, [fileURLToPath(import.meta.url), '--stage', method, '--pool', poolDir, '--models', String(models), '--out', oursDir, ...(values['torch-dtype'] ? ['--torch-dtype', values['torch-dtype']] : [])]);
        const d = JSON.parse(stdout) as Record<string, number>;
        run.detail = { startup_s: round(d.startup_s!), run_s: round(d.run_s!), merge_and_save_s: round(d.merge_and_save_s!) };
        if (run.peak_rss_mb === null) run.peak_rss_mb = Math.round(d.self_max_rss_mb!);
        return run;
      };
      const runFloor = (models: number, atomic = false): Run => {
        const args = ['--dtype', dtype.toLowerCase(), '--out-dtype', outDtype.toLowerCase(), ...(atomic ? ['--atomic'] : []), method, rangesFile, floorOut, String(LAMBDA), ...(method === 'ties' ? [String(THRESHOLD / 100)] : [])];
        const { run, stderr } = timed(floorBin!, [...args, ...files.slice(0, 1 + models)]);
        const patched = /"patched": (\d+)/.exec(stderr);
        if (patched) run.detail = { patched: Number(patched[1]) };
        return run;
      };
      const floorAtomic: Run[] = [];
      const fewer: { ours: number[]; floor: number[] } = { ours: [], floor: [] };
      for (let r = -1; r < runs; r++) {
        // Alternate which goes first, so neither always follows the other's page-cache footprint.
        const order = r % 2 === 0 ? ['ours', 'floor', 'atomic'] : ['atomic', 'floor', 'ours'];
        for (const who of order) {
          if (who !== 'ours' && floorBin === null) continue;
          if (who === 'atomic') {
            if (!values['atomic-floor']) continue;
            const run = runFloor(count, true);
            if (r >= 0) floorAtomic.push(run);
            continue;
          }
          const run = who === 'ours' ? runOurs(count) : runFloor(count);
          if (r < 0) continue; // the untimed warm-up
          (who === 'ours' ? ours : floor).push(run);
          if (marginalFrom !== null) fewer[who as 'ours' | 'floor'].push(run.wall_s - (who === 'ours' ? runOurs(marginalFrom) : runFloor(marginalFrom)).wall_s);
        }
      }
      const oursMedian = median(ours.map((r) => r.wall_s));
      const entry: Record<string, unknown> = {
        ours: { runs: ours, median_wall_s: round(oursMedian), max_peak_rss_mb: Math.max(...ours.map((r) => r.peak_rss_mb ?? 0)), input_gb_per_s: round(inputBytes / 1e9 / oursMedian) },
      };
      const extraBytes = marginalFrom === null ? 0 : inputBytes - files.slice(0, 1 + marginalFrom).reduce((t, f) => t + statSync(f).size, 0);
      const marginal = (diffs: number[]) => ({ marginal_input_gb_per_s: round(extraBytes / 1e9 / median(diffs), 2), marginal_runs_s: diffs.map((d) => round(d)) });
      if (marginalFrom !== null) Object.assign(entry.ours as object, { marginal_from_models: 1 + marginalFrom }, marginal(fewer.ours));
      if (floorBin === null) entry.floor = (built as { reason: string }).reason;
      else {
        const floorMedian = median(floor.map((r) => r.wall_s));
        const diff = maxDiff(join(oursDir, 'model.safetensors'), floorOut, names, outDtype);
        entry.floor = { runs: floor, median_wall_s: round(floorMedian), max_peak_rss_mb: Math.max(...floor.map((r) => r.peak_rss_mb ?? 0)), input_gb_per_s: round(inputBytes / 1e9 / floorMedian), ...(marginalFrom !== null ? marginal(fewer.floor) : {}) };
        entry.ratio_to_floor = round(oursMedian / floorMedian, 2);
        if (floorAtomic.length) {
          const m = median(floorAtomic.map((r) => r.wall_s));
          entry.floor_atomic = { runs: floorAtomic, median_wall_s: round(m) };
          entry.ratio_to_atomic_floor = round(oursMedian / m, 2);
        }
        if (HAS_TIME) entry.cpu_ratio_to_floor = round(median(ours.map((r) => r.cpu_s!)) / median(floor.map((r) => r.cpu_s!)), 2);
        entry.max_abs_diff = diff;
        entry.agree_within_1e_5 = diff <= TOLERANCE;
      }
      results[method === 'ta' ? 'task_arithmetic' : 'ties_threshold20_sum'] = entry;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const modelMB = Math.round(statSync(files[0]!).size / 1e6);
  console.log(JSON.stringify({ bench: 'merge-floor', pool: { dir: poolDir, models: 1 + count, layers, dtype, output_dtype: outDtype, params_per_model: params, model_mb: modelMB, input_mb: Math.round(inputBytes / 1e6) }, lambda: LAMBDA, ties_threshold: THRESHOLD, runs, ...results }, null, 2));
}

await main();
