import { UserError } from '../errors.js';
import { parseOverride, type Override } from '../config/overrides/index.js';

/** One swept key and the override text of each of its values, in sweep order. */
export interface SweptKey {
  /** The key with its prefix and package as Hydra writes it (`method.scaling_factor`, `+x`, `db@pkg`). */
  key: string;
  /** The values as override text (`0.1`, `'a b'`). */
  values: string[];
}

export interface SweepPlan {
  /** Jobs in launch order, each as its override strings (`key=value`), split into batches. */
  batches: string[][][];
  /** The keys that take more than one value form (the sweep overrides), in command-line order. */
  swept: SweptKey[];
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
 * itertools.product order (the last key varies fastest), cut into batches of max_batch_size.
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
  const jobs = product([...lists.values()]);
  const n = opts.maxBatchSize ?? null;
  if (n !== null && n !== -1 && !(Number.isInteger(n) && n > 0)) throw new UserError(`hydra.sweeper.max_batch_size must be a positive integer or null, got ${n}`);
  const size = n === null || n === -1 ? Math.max(jobs.length, 1) : n;
  const batches: string[][][] = [];
  for (let i = 0; i < jobs.length; i += size) batches.push(jobs.slice(i, i + size));
  if (batches.length === 0) batches.push([]);
  const swept = [...lists.keys()].filter((k) => sweptKeys.has(k)).map((key) => ({ key, values: sweptKeys.get(key)! }));
  return { batches, swept };
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
