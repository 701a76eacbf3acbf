import { Profiler } from './profiler.js';

/**
 * fusion_bench's RuntimeConstants: settings of the current run that components read without them being
 * threaded through every constructor (the task pool's fast_dev_run default, the cache folder, the
 * profiler). One run at a time per process; a sweep resets it per job.
 */
export interface Runtime {
  /** `fast_dev_run`: evaluate the first batch of each task only. */
  debug: boolean;
  /** `path.cache_dir`: zero-shot heads and other derived data. */
  cacheDir: string | null;
  /** The run's log directory (`path.log_dir`), where reports and merged models go by default. */
  logDir: string | null;
  profiler: Profiler;
  /** Progress bars and status lines go here (stderr); null keeps a run quiet. */
  progress: NodeJS.WritableStream | null;
  /**
   * Values that outlive one job of a sweep: opened models, zero-shot heads, preprocessed images, task
   * vectors. Keys name what the value was computed from; resetRuntime keeps this unless told otherwise.
   */
  memo: Map<string, unknown>;
  /**
   * fusion_bench's `seed` (`L.seed_everything(seed)`): the default seed of seeded methods (DARE) and of
   * splits without their own `random_seed`; null when the run sets none.
   */
  seed: number | null;
  /**
   * True while a sweep runs: components keep what later jobs can reuse (task vector sums, preprocessed
   * images) from the first job on. Outside a sweep they keep it only when the same thing is computed a
   * second time in the process (see `worthKeeping`), so a single run keeps its small memory profile.
   * resetRuntime leaves it as it is; the sweep sets it and clears it at the end.
   */
  reuse: boolean;
}

export const runtime: Runtime = {
  debug: false,
  cacheDir: null,
  logDir: null,
  profiler: new Profiler(),
  progress: process.stderr,
  memo: new Map(),
  seed: null,
  reuse: false,
};

/**
 * Whether a derived value (task vector sums, preprocessed images, heads) is worth keeping in
 * runtime.memo: only while a sweep runs (`runtime.reuse`), whose later jobs use it. A single run or a
 * library user keeps nothing, so memory stays at a few tensors and nothing grows across calls.
 */
export function worthKeeping(_key: string): boolean {
  return runtime.reuse;
}

/** The memoized value for `key`, computed once per process (or per sweep). */
export async function memo<T>(key: string, compute: () => Promise<T> | T): Promise<T> {
  if (runtime.memo.has(key)) return runtime.memo.get(key) as T;
  const v = await compute();
  runtime.memo.set(key, v);
  return v;
}

/** A fresh runtime for the next job; the memo carries over (a sweep reuses it) unless `init.memo` replaces it. */
export function resetRuntime(init: Partial<Runtime> = {}): Runtime {
  Object.assign(runtime, { debug: false, cacheDir: null, logDir: null, profiler: new Profiler(), progress: process.stderr, seed: null }, init);
  return runtime;
}
