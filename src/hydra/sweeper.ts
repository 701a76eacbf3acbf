import { UserError } from '../errors.js';
import { parseOverride, type Override } from '../config/overrides/index.js';

/** One swept key and the override text of each of its values, in sweep order. */
export interface SweptKey {
  /** The key with its prefix and package as Hydra writes it (`method.scaling_factor`, `+x`, `db@pkg`). */
  key: string;
  /** The values as override text (`0.1`, `'a b'`). */
  values: string[];
}

/** Hydra's sweeps are products; past this many jobs a sweep is refused before anything runs. */
export const MAX_SWEEP_JOBS = 1_000_000;

export interface SweepPlan {
  /** The keys that take more than one value form (the sweep overrides), in command-line order. */
  swept: SweptKey[];
  /** How many jobs the product has. */
  jobCount: number;
  /** Jobs per batch (hydra.sweeper.max_batch_size; the whole product when unset). */
  batchSize: number;
  /** Job `i` of the product (0-based), as its override strings (`key=value`), computed on demand. */
  job(i: number): string[];
  /** The jobs in launch order, a batch at a time: only the batch being launched is ever built. */
  batches(): Generator<string[][]>;
}

export interface ExpandOptions {
  /** The options of a config group, for `glob()` sweeps. */
  groupOptions(group: string): string[];
  /** `hydra.sweeper.max_batch_size`: null (or -1) is one batch. */
  maxBatchSize?: number | null;
}

/**
 * Hydra 1.3's BasicSweeper.split_arguments: each override becomes the list of its `key=value` strings
 * (one for a plain override, one per value for a discrete sweep); overrides of the same key collapse
 * into the first one's position with the last one's values; the jobs are the cartesian product in
 * itertools.product order (the last key varies fastest), cut into batches of max_batch_size. The
 * product is never built whole: job `i` is read off its mixed-radix digits, so a sweep of two ranges of
 * 10⁵ values starts its first job at once (and a product past MAX_SWEEP_JOBS is refused).
 */
export function planSweep(overrides: readonly string[] | readonly Override[], opts: ExpandOptions): SweepPlan {
  const parsed = overrides.map((o) => (typeof o === 'string' ? parseOverride(o) : o));
  const lists = new Map<string, string[]>();
  const sweptKeys = new Map<string, string[]>();
  for (const o of parsed) {
    const key = o.keyElement;
    if (o.isSweep()) {
      if (!o.isDiscreteSweep()) throw new UserError(`BasicSweeper does not support sweep type : ${o.valueType} (override '${o.input}')`);
      const values = o.sweepValues(o.valueType === 'GLOB_CHOICE_SWEEP' ? opts.groupOptions(o.keyOrGroup) : undefined).map((v) => v.text);
      if (values.length === 0) throw new UserError(`The sweep '${o.input}' has no values${o.valueType === 'GLOB_CHOICE_SWEEP' ? ` (no option of group '${o.keyOrGroup}' matches)` : ''}`);
      lists.set(key, values.map((v) => `${key}=${v}`));
      sweptKeys.set(key, values);
    } else {
      lists.set(key, [`${key}=${o.valueAsStr()}`]);
      sweptKeys.delete(key);
    }
  }
  const columns = [...lists.values()];
  let jobCount = 1;
  for (const c of columns) jobCount *= c.length;
  if (jobCount > MAX_SWEEP_JOBS) {
    const sizes = [...sweptKeys.entries()].map(([k, v]) => `${k}: ${v.length}`).join(', ');
    throw new UserError(`The sweep has ${jobCount.toExponential(2)} jobs (${sizes}); fusion-bench runs at most ${MAX_SWEEP_JOBS} jobs in one sweep. Split it into several sweeps.`);
  }
  const n = opts.maxBatchSize ?? null;
  if (n !== null && n !== -1 && !(Number.isInteger(n) && n > 0)) throw new UserError(`hydra.sweeper.max_batch_size must be a positive integer or null, got ${n}`);
  const batchSize = n === null || n === -1 ? Math.max(jobCount, 1) : n;
  const job = (i: number): string[] => {
    const out = new Array<string>(columns.length);
    let rest = i;
    for (let c = columns.length - 1; c >= 0; c--) {
      const col = columns[c]!;
      out[c] = col[rest % col.length]!;
      rest = Math.floor(rest / col.length);
    }
    return out;
  };
  const swept = [...lists.keys()].filter((k) => sweptKeys.has(k)).map((key) => ({ key, values: sweptKeys.get(key)! }));
  return {
    swept,
    jobCount,
    batchSize,
    job,
    *batches() {
      if (jobCount === 0) {
        yield [];
        return;
      }
      for (let start = 0; start < jobCount; start += batchSize) {
        const batch: string[][] = [];
        for (let i = start; i < Math.min(start + batchSize, jobCount); i++) batch.push(job(i));
        yield batch;
      }
    },
  };
}

/** itertools.product: the last list varies fastest; no lists gives one empty job. */
export function product<T>(lists: readonly (readonly T[])[]): T[][] {
  let out: T[][] = [[]];
  for (const list of lists) {
    const next: T[][] = [];
    for (const prefix of out) for (const v of list) next.push([...prefix, v]);
    out = next;
  }
  return out;
}

/** The swept values of one job, by swept key, read back from its override strings. */
export function sweptValuesOf(job: readonly string[], swept: readonly SweptKey[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key } of swept) {
    const o = job.find((s) => s.startsWith(key + '='));
    if (o !== undefined) out[key] = o.slice(key.length + 1);
  }
  return out;
}
