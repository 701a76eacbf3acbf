/**
 * What a run tells the components it builds (fusion_bench's RuntimeConstants, passed rather than global):
 * the seed, fast_dev_run, where derived data and reports go, where status lines go, the profiler, and —
 * only inside a sweep whose launcher runs the jobs in this process — a cache the jobs share. Components
 * receive it from whoever builds them (the registry passes it to every factory) and never reach for a
 * process-wide object, so two runs in one process, or a job in a worker, cannot see each other's settings.
 */
import { Profiler } from './util/profiler.js';

/** Values that outlive one job of a sweep: task vector sums, preprocessed images, heads, task pools. */
export type SweepCache = Map<string, unknown>;

export interface RunContext {
  /** fusion_bench's `seed` (`L.seed_everything(seed)`): the default of seeded methods and splits; null: none. */
  readonly seed: number | null;
  /** `fast_dev_run`: evaluate the first batch of each task only. */
  readonly fastDevRun: boolean;
  /** `path.cache_dir`: zero-shot heads and other derived data; null keeps nothing on disk. */
  readonly cacheDir: string | null;
  /** The run's log directory (`path.log_dir`): `{log_dir}` in output paths. */
  readonly logDir: string | null;
  /** Progress bars and status lines (stderr and the job's log file); null keeps a run quiet. */
  readonly status: NodeJS.WritableStream | null;
  readonly profiler: Profiler;
  /**
   * Given by a launcher that runs a sweep's jobs one after another in this process: what later jobs can
   * reuse. null (a single run, a library call, a job in another process) keeps nothing, so memory stays
   * at a few tensors and nothing grows across calls.
   */
  readonly sweepCache: SweepCache | null;
}

/** A context with defaults for what `init` leaves out: no seed, status on stderr, a fresh profiler, no cache. */
export function runContext(init: Partial<RunContext> = {}): RunContext {
  return {
    seed: null,
    fastDevRun: false,
    cacheDir: null,
    logDir: null,
    status: process.stderr,
    profiler: new Profiler(),
    sweepCache: null,
    ...init,
  };
}

/** The cached value for `key` in the sweep cache, computed once; without a cache, computed each time. */
export async function cached<T>(ctx: RunContext, key: string, compute: () => Promise<T> | T): Promise<T> {
  const cache = ctx.sweepCache;
  if (cache === null) return compute();
  if (cache.has(key)) return cache.get(key) as T;
  const v = await compute();
  cache.set(key, v);
  return v;
}
