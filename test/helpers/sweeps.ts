/**
 * Sweeps of the demo through the command line, for the launcher tests: run one, read its summary rows
 * without what depends on where the sweep ran (its folder).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { binPath } from './paths.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `fusion-bench --config-name demo -m <args>` in `cwd`. */
export function demoSweep(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, [binPath, '--config-name', 'demo', '-m', ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, started in the background: `waitFor` resolves when stderr matches; `done` when it exits. */
export function demoSweepAsync(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [binPath, '--config-name', 'demo', '-m', ...args], { cwd, env: { ...process.env, ...env } });
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters.splice(0)) (w.re.test(stderr) ? w.resolve() : waiters.push(w));
  });
  child.stdout.resume();
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    done,
    stderr: () => stderr,
    waitFor: (re: RegExp) => new Promise<void>((resolve, reject) => {
      if (re.test(stderr)) return resolve();
      waiters.push({ re, resolve });
      void done.then(() => reject(new Error(`exited before stderr matched ${re}:\n${stderr}`)));
    }),
  };
}

export interface Row {
  job: number;
  swept: Record<string, string>;
  status: string;
  error: string | null;
  tasks: unknown;
  average: unknown;
  output_dir: string;
}

export function summaryRows(sweepDir: string): Row[] {
  return (JSON.parse(readFileSync(join(sweepDir, 'sweep_summary.json'), 'utf8')) as { rows: Row[] }).rows;
}

/** What must be equal between two sweeps of the same jobs, wherever they ran. */
export function comparable(rows: readonly Row[]) {
  return rows.map((r) => ({ job: r.job, swept: r.swept, status: r.status, tasks: r.tasks, average: r.average }));
}
