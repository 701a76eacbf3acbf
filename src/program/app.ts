/**
 * fusion-bench as Hydra's application: a job instantiates the program its config names (through the
 * registry, never an import) and runs it; a sweep's jobs share task pools through the sweep cache, and
 * at the end of a sweep the summary is written (sweep-report.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { App, JobResult } from '../hydra/app.js';
import type { ConfigDict } from '../config/values.js';
import { instantiate } from '../registry/instantiate.js';
import type { Registry } from '../registry/registry.js';
import type { RunContext } from '../run-context.js';
import { isTaskPoolTarget, releaseSharedInstances, shareInstances } from './sweep-memo.js';
import { SweepReporter } from './sweep-report.js';

/** `{log_dir}` in a path, as fusion_bench's str.format. */
function withLogDir(p: string, logDir: string): string {
  return p.replaceAll('{log_dir}', logDir);
}

export function fusionBenchApp(io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; cwd: string }): App {
  const reporter = new SweepReporter(io);
  return {
    async run(job: ConfigDict, ctx: RunContext): Promise<JobResult> {
      // Loaded with the first job, not with the app: the registry reaches every method, onnxruntime and
      // the data readers, and the process that only launches a sweep elsewhere (a joblib or Slurm sweep)
      // never needs them; it starts its workers that much sooner.
      const { createBuiltinRegistry } = await import('../registry/builtins.js');
      const registry = createBuiltinRegistry({ stdout: io.stdout });
      if (ctx.sweepCache !== null) shareInstances(registry, isTaskPoolTarget, ctx.sweepCache);
      const result = (await runProgram(registry, job, ctx)) as { report?: unknown; report_path?: string | null; merged_model_path?: string | null } | undefined;
      const path = (p: unknown) => (typeof p === 'string' ? p : null);
      return { report: result?.report ?? null, reportPath: path(result?.report_path), modelPath: path(result?.merged_model_path) };
    },
    previousResult(job: ConfigDict, outputDir: string): JobResult | undefined {
      const rp = job.report_save_path;
      if (typeof rp !== 'string' || rp.length === 0) return undefined;
      const reportPath = resolve(io.cwd, withLogDir(rp, outputDir));
      if (!existsSync(reportPath)) return undefined;
      try {
        return { report: JSON.parse(readFileSync(reportPath, 'utf8')), reportPath };
      } catch {
        return undefined;
      }
    },
    releaseSweepCache: (cache) => releaseSharedInstances(cache),
    onMultirunStart: (start) => reporter.start(start),
    onMultirunEnd: (end) => reporter.end(end),
  };
}

/**
 * Instantiates the program the resolved job config names and runs it; returns what run() returned.
 * The merged model(s) in the result are closed afterwards: a job is done with them, and their source
 * files would otherwise stay open for the rest of a sweep.
 */
export async function runProgram(registry: Registry, job: ConfigDict, ctx: RunContext): Promise<unknown> {
  const program = (await instantiate(registry, { ...job, _recursive_: job._recursive_ ?? false }, {}, '', ctx)) as { run?: () => Promise<unknown> };
  if (typeof program?.run !== 'function') throw new UserError(`The config's _target_ '${String(job._target_)}' is not a program (it has no run())`);
  const result = await program.run();
  closeModels((result as { merged_model?: unknown } | undefined)?.merged_model);
  return result;
}

/** Closes every model (anything with a state dict) in a value, a dict or a list of them. */
function closeModels(v: unknown, depth = 0): void {
  if (v === null || typeof v !== 'object' || depth > 4) return;
  const sd = (v as { stateDict?: { close?: () => void } }).stateDict;
  if (sd && typeof sd.close === 'function') {
    sd.close();
    return;
  }
  for (const x of Array.isArray(v) ? v : Object.values(v)) closeModels(x, depth + 1);
}
