/**
 * What Hydra's runner runs: the application (fusion_bench's program, in src/program/app.ts). Hydra's side
 * decides where a job runs and records it; the application decides what a job does with its config.
 */
import type { ConfigDict, ConfigValue } from '../config/values.js';
import type { RunContext } from '../run-context.js';
import type { JobOutcome } from './job-return.js';
import type { SweptKey } from './sweeper.js';

/** What a job gives back: its report (fusion_bench's shape) and where it was saved. */
export interface JobResult {
  report: unknown;
  reportPath: string | null;
  /** Where the job saved a model, when it did. */
  modelPath?: string | null;
}

export interface App {
  /** Runs one job: its resolved config without the `hydra` node, in its run context. */
  run(job: ConfigDict, ctx: RunContext): Promise<JobResult>;
  /**
   * The result an earlier run of this job left in `outputDir` (a sweep run again over the same folder),
   * when the runner has found that run's record equal to this job's; undefined: run the job.
   */
  previousResult?(job: ConfigDict, outputDir: string): JobResult | undefined;
  /** Releases what the jobs shared through the sweep cache (file handles), at the end of a sweep. */
  releaseSweepCache?(cache: Map<string, unknown>): Promise<void>;
  /** Before a sweep's first job (Hydra's on_multirun_start callback): a chance to refuse it early. */
  onMultirunStart?(start: MultirunStart): void;
  /** After a sweep's jobs (Hydra's on_multirun_end): summaries, follow-up jobs. Returns whether that part failed. */
  onMultirunEnd?(end: MultirunEnd): Promise<boolean>;
}

export interface MultirunStart {
  /** A key of the master config, resolved with the sweep's clock. */
  resolve(key: string): ConfigValue | undefined;
  /** The first job's overrides, or null for an empty sweep. */
  firstJob: readonly string[] | null;
  /** Composes (does not run) a job as `runMore` would: throws what composing it throws. */
  composeOnly(overrides: readonly string[], subdir: string): void;
}

export interface MultirunEnd {
  /** `hydra.sweep.dir`, absolute. */
  sweepDir: string;
  /** The swept keys and their values, in command-line order. */
  swept: readonly SweptKey[];
  /** One outcome per job, in job order. */
  outcomes: readonly JobOutcome[];
  /** Runs one more job in this process, in `<sweep dir>/<subdir>` (e.g. the best job on the test sets). */
  runMore(overrides: readonly string[], subdir: string): Promise<JobOutcome>;
}
