/**
 * A 10-job λ sweep of the demo (method.scaling_factor=0.1,…,1.0) through each launcher: the sequential
 * BasicLauncher (one process, jobs sharing a sweep cache), joblib with 2 worker processes, and
 * submitit_slurm on the cluster scripts/slurm-up.sh starts (skipped, saying why, where Slurm does not
 * answer). Prints JSON: wall time of each sweep, its speed-up over the sequential one, and the scheduling
 * overhead per job — (wall − sequential wall ÷ workers) ÷ jobs: what running elsewhere costs over a
 * perfectly shared-out sequential sweep. Every sweep must give the same summary rows. The runs are
 * interleaved (sequential, joblib, …, then again), so that a shared machine's load falls on all alike.
 * An untimed sequential sweep runs first, so that every timed sweep finds the same on-disk caches under
 * the working folder's outputs/cache (zero-shot heads, preprocessed image crops). Each sweep's 1-minute
 * load average (os.loadavg) is printed beside its time: on a shared machine, compare passes at low load.
 * Usage: node dist/bench/launchers.js [runs=1] [launchers=sequential,joblib_2,submitit_local,submitit_slurm]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'fusion-bench.js');
const runs = Number(process.argv[2] ?? 1);
const chosen = process.argv[3]?.split(',') ?? null;
const JOBS = 10;
const lambdas = `method.scaling_factor=${Array.from({ length: JOBS }, (_, i) => ((i + 1) / 10).toFixed(1)).join(',')}`;

function slurmAnswers(): string | null {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  if (r.error) return `sinfo: ${r.error.message}`;
  if (r.status !== 0) return `sinfo: ${r.stderr.trim()}`;
  return /^(idle|mixed|allocated)/m.test(r.stdout) ? null : `no node takes jobs (${r.stdout.trim()})`;
}

function sweep(dir: string, name: string, extra: string[]): { wall_s: number; rows: string } {
  const sweepDir = join(dir, name);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, '--config-name', 'demo', '-m', lambdas, `hydra.sweep.dir=${sweepDir}`, ...extra], { cwd: dir, encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}\n${r.stderr}`);
  const rows = (JSON.parse(readFileSync(join(sweepDir, 'sweep_summary.json'), 'utf8')) as { rows: { swept: unknown; status: string; average: unknown; tasks: unknown }[] }).rows;
  return { wall_s: wall, rows: JSON.stringify(rows.map((x) => [x.swept, x.status, x.tasks, x.average])) };
}

const launchers: { name: string; workers: number; args: string[]; skip: string | null }[] = [
  { name: 'sequential', workers: 1, args: [], skip: null },
  { name: 'joblib_2', workers: 2, args: ['hydra/launcher=joblib', 'hydra.launcher.n_jobs=2'], skip: null },
  // one core a job: two job processes at a time on two cores
  { name: 'submitit_local', workers: 2, args: ['hydra/launcher=submitit_local', 'hydra.launcher.cpus_per_task=1'], skip: null },
  { name: 'submitit_slurm', workers: 2, args: ['hydra/launcher=submitit_slurm', 'hydra.launcher.cpus_per_task=1'], skip: slurmAnswers() },
];

const dir = mkdtempSync(join(tmpdir(), 'fb-bench-launchers-'));
try {
  const results: Record<string, unknown> = {};
  const active = launchers.filter((l) => chosen === null || chosen.includes(l.name));
  const walls = new Map<string, number[]>(active.map((l) => [l.name, []]));
  const loads = new Map<string, number[]>(active.map((l) => [l.name, []]));
  const reference = sweep(dir, 'warm-up', []).rows;
  for (let i = 0; i < runs; i++) {
    for (const l of active) {
      if (l.skip !== null) continue;
      loads.get(l.name)!.push(loadavg()[0]!);
      const s = sweep(dir, `${l.name}-${i}`, l.args);
      if (s.rows !== reference) throw new Error(`${l.name}: the summary rows differ from the sequential sweep's`);
      walls.get(l.name)!.push(s.wall_s);
    }
  }
  const seqWall = Math.min(...(walls.get('sequential') ?? [NaN]));
  for (const l of active) {
    if (l.skip !== null) {
      results[l.name] = { skipped: l.skip };
      continue;
    }
    const w = walls.get(l.name)!;
    const wall = Math.min(...w);
    results[l.name] = {
      workers: l.workers,
      wall_s: +wall.toFixed(2),
      wall_runs_s: w.map((x) => +x.toFixed(2)),
      load1_runs: loads.get(l.name)!.map((x) => +x.toFixed(2)),
      speedup_over_sequential: +(seqWall / wall).toFixed(2),
      overhead_per_job_s: +((wall - seqWall / l.workers) / JOBS).toFixed(3),
    };
  }
  console.log(JSON.stringify({ bench: 'launchers', sweep: `fusion-bench --config-name demo -m ${lambdas}`, jobs: JOBS, runs, results }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
