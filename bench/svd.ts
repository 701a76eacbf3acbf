/**
 * SVD benchmarks for the SVD-based merges (src/method/linalg/dense.ts), with PyTorch 1.13 on the same
 * shapes in the same invocation where it is installed:
 * - one thin SVD of a float32 task-vector-like matrix (noise plus a low-rank part), 768×768 and 3072×768,
 *   best of `--repeat`, all triplets and the top min(m, n)/8 that TSV-M keeps (`seconds_top_96`); torch:
 *   torch.linalg.svd(full_matrices=False) with 2 threads;
 * - TSV-M and Iso-CTS over 8 fine-tuned models around one pretrained model, ViT-B/32-shaped (`--layers`
 *   encoder layers, default 1 — 3–4 min per method here at load ≈ 12; 12 is the full model, 72 matrices of 768×768
 *   or 3072×768 per task, about 12× as long), each end to end —
 *   open the checkpoints through CLIPVisionModelPool, merge, save — in a fresh child process, so its peak
 *   RSS is the stage's own. Torch runs fusion_bench's per-matrix code (TSV's
 *   compute_and_sum_svd_mem_reduction, Iso-CTS's merge) on random tensors of the same shapes, in memory
 *   (no loading or saving), in its own process.
 *
 * Torch is looked for as `--python` (default: python3, then /usr/bin/python3, where Debian's
 * python3-torch lives); without it the torch fields say "not measured". Prints JSON.
 * Usage: node dist/bench/svd.js [--layers 1] [--tasks 8] [--repeat 2] [--no-methods] [--methods tsv,iso_cts]
 *   [--no-svd] [--python python3]
 * (`--methods iso_cts --no-svd`: Iso-CTS alone, against torch.)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsotropicMergingInCommonAndTaskSubspace, TaskSingularVectorMerging } from '../src/method/index.js';
import { svdThin } from '../src/method/linalg/dense.js';
import { ortGemmStatus } from '../src/method/linalg/ort-gemm.js';
import { CLIPVisionModelPool } from '../src/modelpool/index.js';
import { mulberry32 } from '../src/util/prng.js';
import { clipVisionTensorSpecs, writeRandomClipVisionModel } from './lib/random-model.js';

const USAGE = 'usage: node dist/bench/svd.js [--layers 1] [--tasks 8] [--repeat 2] [--no-methods] [--methods tsv,iso_cts]';
const { values } = benchArgs(USAGE, {
  options: {
    layers: { type: 'string', default: '1' },
    tasks: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '2' },
    'no-methods': { type: 'boolean', default: false },
    methods: { type: 'string', default: 'tsv,iso_cts' },
    'no-svd': { type: 'boolean', default: false },
    python: { type: 'string' },
    stage: { type: 'string' },
    dir: { type: 'string' },
  },
});

const SHAPES: readonly [number, number][] = [[768, 768], [3072, 768]];
const maxRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const round3 = (x: number) => Number(x.toFixed(3));

/** Noise plus a rank-8 part: a spectrum with a few large singular values and a long flat tail. */
function taskVectorLike(m: number, n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const gauss = () => r() + r() + r() - 1.5;
  const rank = 8;
  const u = Float64Array.from({ length: m * rank }, gauss);
  const v = Float64Array.from({ length: rank * n }, gauss);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < rank; p++) s += u[i * rank + p]! * v[p * n + j]!;
      out[i * n + j] = 1e-3 * (gauss() + 0.1 * s);
    }
  }
  return out;
}

/** Best of `repeat` thin SVDs keeping the top `keep` triplets (all by default). */
function jsSvdSeconds(m: number, n: number, repeat: number, keep = Math.min(m, n)): number {
  const a = Float64Array.from(taskVectorLike(m, n, m + n));
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    svdThin(a, m, n, 0, keep);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

// fusion_bench's per-matrix code (task_singular_vector/utils, isotropic_merging), on random tensors.
const TORCH_SCRIPT = String.raw`
import json, resource, sys, time
import torch
torch.set_num_threads(2)
torch.manual_seed(0)
cfg = json.loads(sys.argv[1])
def tvlike(m, n):
    return 1e-3 * (torch.randn(m, n) + 0.1 * torch.randn(m, 8) @ torch.randn(8, n))
def tsv(tvs):
    r = int(min(tvs[0].shape) * (1.0 / len(tvs)))
    for i, vec in enumerate(tvs):
        u, s, v = torch.linalg.svd(vec, full_matrices=False)
        if i == 0:
            sum_u = torch.zeros_like(u); sum_s = torch.zeros_like(s); sum_v = torch.zeros_like(v)
        sum_u[:, i * r:(i + 1) * r] = u[:, :r]; sum_s[i * r:(i + 1) * r] = s[:r]; sum_v[i * r:(i + 1) * r, :] = v[:r, :]
    u_u, s_u, v_u = torch.linalg.svd(sum_u, full_matrices=False)
    u_v, s_v, v_v = torch.linalg.svd(sum_v, full_matrices=False)
    return torch.linalg.multi_dot((u_u, v_u, torch.diag(sum_s), u_v, v_v))
def iso_cts(tvs, frac=0.8):
    k = min(tvs[0].shape); T = len(tvs)
    common = int(k * frac); common = k - round((k - common) / T) * T; per = (k - common) // T
    U, S, V = torch.linalg.svd(sum(tvs), full_matrices=False)
    Uc, Sc, Vc = U[:, :common], S[:common], V[:common, :]
    us, ss, vs = [], [], []
    for w in tvs:
        wo = w - Uc @ Uc.T @ w
        u, s, v = torch.linalg.svd(wo, full_matrices=False)
        us.append(u[:, :per]); ss.append(s[:per]); vs.append(v[:per, :])
    Uall = torch.cat(us + [Uc], dim=1); Sall = torch.cat(ss + [Sc]); Vall = torch.cat(vs + [Vc], dim=0)
    a, _, b = torch.linalg.svd(Uall, full_matrices=False); Uall = a @ b
    a, _, b = torch.linalg.svd(Vall, full_matrices=False); Vall = a @ b
    return Uall @ torch.diag(torch.ones_like(Sall) * Sall.mean()) @ Vall
out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
if cfg["stage"] == "svd":
    for m, n in cfg["shapes"]:
        a = tvlike(m, n); best = float("inf")
        for _ in range(cfg["repeat"]):
            t0 = time.perf_counter(); torch.linalg.svd(a, full_matrices=False); best = min(best, time.perf_counter() - t0)
        out[f"{m}x{n}"] = round(best, 4)
else:
    f = tsv if cfg["stage"] == "tsv" else iso_cts
    t0 = time.perf_counter()
    for m, n in cfg["matrices"]:
        f([tvlike(m, n) for _ in range(cfg["tasks"])])
    out["seconds"] = round(time.perf_counter() - t0, 3)
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
`;
import { benchArgs } from './lib/args.js';

/** A python3 that imports torch, or null. */
function findTorchPython(): string | null {
  const candidates = values.python ? [values.python] : ['python3', '/usr/bin/python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

function runTorch(py: string | null, cfg: Record<string, unknown>): Record<string, unknown> | 'not measured' {
  if (py === null) return 'not measured';
  const r = spawnSync(py, ['-c', TORCH_SCRIPT, JSON.stringify(cfg)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2' } });
  if (r.status !== 0) throw new Error(`torch stage ${String(cfg.stage)} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** One method, run inside the child process over the models in `dir`: merge, save, report. */
async function runStage(stage: string, dir: string, tasks: number): Promise<void> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const models: Record<string, string> = { _pretrained_: join(dir, 'pretrained') };
  for (let i = 0; i < tasks; i++) models[`task${i}`] = join(dir, `ft-${i}`);
  const pool = new CLIPVisionModelPool({ models });
  const method = stage === 'tsv'
    ? new TaskSingularVectorMerging({ alpha: 1.0, exclude_keys: [], return_single_task_models: false })
    : new IsotropicMergingInCommonAndTaskSubspace({ scaling_factor: 1.5, common_space_fraction: 0.8, exclude_keys: [] });
  const merged = await method.run(pool);
  await pool.saveModel(merged as never, join(dir, `merged-${stage}`));
  (merged as { stateDict?: { close?(): void } }).stateDict?.close?.();
  const cpu = process.cpuUsage(cpu0); // every thread of the process (the SVD pool's and the GEMM workers' too)
  process.stdout.write(JSON.stringify({ seconds: round3((performance.now() - t0) / 1000), cpu_seconds: round3((cpu.user + cpu.system) / 1e6), max_rss_mb: maxRssMB() }));
}

function child(stage: string, dir: string, tasks: number): Record<string, unknown> {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--stage', stage, '--dir', dir, '--tasks', String(tasks)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stage ${stage} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function ratio(js: number, torch: unknown): number | 'not measured' {
  return typeof torch === 'number' && torch > 0 ? round3(js / torch) : 'not measured';
}

async function main(): Promise<void> {
  const tasks = Number(values.tasks);
  if (values.stage !== undefined) return runStage(values.stage, values.dir!, tasks);
  const repeat = Number(values.repeat);
  const layers = Number(values.layers);
  const py = findTorchPython();
  const results: Record<string, unknown> = { bench: 'svd', torch_python: py ?? 'not measured' };
  const torchSvd = values['no-svd'] ? 'not measured' : runTorch(py, { stage: 'svd', shapes: SHAPES, repeat });
  if (!values['no-svd']) results.svd = SHAPES.map(([m, n]) => {
    const js = round3(jsSvdSeconds(m, n, repeat));
    // TSV-M keeps the top min(m, n)/8 triplets of each task's matrix (torch computes them all)
    const keep = Math.floor(Math.min(m, n) / 8);
    const top = round3(jsSvdSeconds(m, n, repeat, keep));
    const t = torchSvd === 'not measured' ? 'not measured' : torchSvd[`${m}x${n}`];
    return { shape: [m, n], seconds: js, torch_seconds: t ?? 'not measured', ratio_to_torch: ratio(js, t), [`seconds_top_${keep}`]: top };
  });
  if (!values['no-svd']) results.ort_gemm = ortGemmStatus() || 'in use'; // products on onnxruntime, or why not
  const stages = values.methods.split(',').map((x) => x.trim());
  const unknown = stages.filter((x) => x !== 'tsv' && x !== 'iso_cts');
  if (unknown.length > 0) throw new Error(`--methods: unknown ${unknown.join(', ')} (tsv, iso_cts)`);
  if (!values['no-methods']) {
    const matrices = [...clipVisionTensorSpecs({ layers }).values()].filter((s) => s.shape.length === 2).map((s) => s.shape);
    const dir = mkdtempSync(join(tmpdir(), 'fb-svd-bench-'));
    try {
      const make = (name: string, o: Parameters<typeof writeRandomClipVisionModel>[1]) => {
        mkdirSync(join(dir, name));
        return writeRandomClipVisionModel(join(dir, name), { layers, ...o });
      };
      const written = make('pretrained', { seed: 0 });
      for (let i = 0; i < tasks; i++) make(`ft-${i}`, { seed: i + 1, base: { seed: 0, noise: 0.05 } });
      results.models = { layers, tasks, model_mb: Math.round(written.totalBytes / 1e6), matrices_per_task: matrices.length };
      for (const stage of stages) {
        const js = child(stage, dir, tasks);
        const t = runTorch(py, { stage: stage === 'tsv' ? 'tsv' : 'iso_cts', matrices, tasks });
        const tSec = t === 'not measured' ? undefined : t.seconds;
        results[stage === 'tsv' ? 'tsv_m' : 'iso_cts'] = { ...js, torch: t, ratio_to_torch: ratio(js.seconds as number, tSec) };
        // each stage can take minutes on a loaded machine: its result is on stderr as soon as it is known
        process.stderr.write(`${JSON.stringify({ [stage]: results[stage === 'tsv' ? 'tsv_m' : 'iso_cts'] })}\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(JSON.stringify(results, null, 2));
}

await main();
