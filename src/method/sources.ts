/**
 * The models a method merges: loaded from the pool (or given as a plain mapping), checked to hold the
 * same tensors with the same shapes before any work, and wrapped into the lazy merged model.
 */
import { UserError } from '../errors.js';
import { BaseModelPool } from '../modelpool/base-pool.js';
import type { Model } from '../modelpool/model.js';
import { canReadInto } from '../modelpool/read-into.js';
import { isFloatDType, numel } from '../tensor/dtype.js';
import type { ReadBatch } from '../tensor/io/read-batch.js';
import type { WriteBehind } from '../tensor/safetensors-write.js';
import type { StateDict, TensorInfo } from '../tensor/types.js';
import { ComputedStateDict } from './computed-state-dict.js';
import { F32Arena } from '../tensor/kernels/arena.js';

/** What `run` accepts: a pool, or a mapping from names to models (or model paths), as fusion_bench's `Dict[str, nn.Module]`. */
export type PoolInput = BaseModelPool | Record<string, unknown>;

export function toPool(input: PoolInput): BaseModelPool {
  return input instanceof BaseModelPool ? input : new BaseModelPool({ models: input });
}

export interface Source {
  readonly name: string;
  readonly model: Model;
}

/** Models loaded for one run; closes the ones it opened (never models given as objects). */
export class SourceSet {
  private readonly alsoOnClose: (() => void)[] = [];

  private constructor(readonly list: readonly Source[], private readonly owned: readonly Model[]) {}

  static async load(pool: BaseModelPool, names: readonly string[]): Promise<SourceSet> {
    const list: Source[] = [];
    const owned: Model[] = [];
    try {
      for (const name of names) {
        const model = await pool.loadModel(name);
        if (!pool.isInstanceModel(name)) owned.push(model);
        list.push({ name, model });
      }
    } catch (e) {
      for (const m of owned) m.stateDict.close?.();
      throw e;
    }
    return new SourceSet(list, owned);
  }

  /** Something to release with the models (a merge's read helper). */
  onClose(release: () => void): void {
    this.alsoOnClose.push(release);
  }

  close(): void {
    for (const release of this.alsoOnClose.splice(0)) release();
    for (const m of this.owned) m.stateDict.close?.();
  }
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function listSome(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** Every model must hold the reference's tensor names with the same shapes (fusion_bench's strict key check). */
export function checkCompatible(owner: string, ref: Source, others: readonly Source[]): void {
  const refSd = ref.model.stateDict;
  const refNames = refSd.names();
  for (const o of others) {
    const sd = o.model.stateDict;
    const missing = refNames.filter((n) => !sd.has(n));
    const extra = sd.names().filter((n) => !refSd.has(n));
    if (missing.length > 0 || extra.length > 0) {
      const parts = [];
      if (missing.length > 0) parts.push(`it lacks ${listSome(missing)}`);
      if (extra.length > 0) parts.push(`it has ${listSome(extra)} that '${ref.name}' lacks`);
      throw new UserError(`${owner}: model '${o.name}' (${o.model.source}) does not have the same tensors as '${ref.name}' (${ref.model.source}): ${parts.join('; ')}`);
    }
    for (const n of refNames) {
      const a = refSd.info(n).shape;
      const b = sd.info(n).shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        throw new UserError(`${owner}: tensor '${n}' has shape ${shapeText(b)} in model '${o.name}' but ${shapeText(a)} in '${ref.name}'`);
      }
    }
  }
}

/** Floating tensors are merged; integer and bool buffers pass through from the base model. */
export function isMerged(info: TensorInfo): boolean {
  return isFloatDType(info.dtype);
}

/**
 * The merged model over `base`'s tensor names, dtypes and config: `compute(name)` gives each floating
 * tensor; closing it closes the models the run opened.
 */
export function mergedModel(owner: string, base: Source, sources: SourceSet, compute: (name: string, out?: Float32Array) => Float32Array, writeBehind?: () => WriteBehind): Model {
  const sd = base.model.stateDict;
  const stateDict = new ComputedStateDict({
    names: sd.names(),
    info: (n) => sd.info(n),
    compute: (n, out) => (isMerged(sd.info(n)) ? compute(n, out) : sd.loadF32(n)),
    raw: (n) => (isMerged(sd.info(n)) ? undefined : sd.loadRaw?.(n)),
    onClose: () => sources.close(),
    writeBehind,
  });
  return { stateDict, config: base.model.config, source: `${owner} merge` };
}

/** Loads the named models, checks them against the first, and closes them again if the check fails. */
export async function loadChecked(owner: string, pool: BaseModelPool, names: readonly string[]): Promise<SourceSet> {
  const set = await SourceSet.load(pool, names);
  try {
    const [first, ...rest] = set.list;
    if (first === undefined) throw new UserError(`${owner}: the model pool has no models to merge`);
    checkCompatible(owner, first, rest);
  } catch (e) {
    set.close();
    throw e;
  }
  return set;
}

/**
 * Scratch buffers for tensors a merge only reads: `read(sd, name, slot)` fills slot `slot` when the
 * state dict can read into a buffer, else returns a fresh `loadF32`. A result must not outlive the next
 * read into the same slot, so never return one from a merge (the merged tensor must be fresh).
 */
/** `name` of `sd` in the given buffer (a view of its first numel values). */
export function readInto(sd: StateDict, name: string, out: Float32Array, batch?: ReadBatch): Float32Array {
  if (canReadInto(sd)) return sd.loadF32Into(name, out, batch);
  const data = sd.loadF32(name);
  out.set(data);
  return out.subarray(0, data.length);
}

export class Scratch {
  private readonly slots: Float32Array[] = [];
  private arena: F32Arena | null | undefined;

  /**
   * With a plan (the merge runner knows how many slots and the largest tensor), slots up to that size
   * are views into one WebAssembly arena, allocated once on first use, where the SIMD kernels run;
   * anything beyond the plan gets plain arrays.
   */
  constructor(private readonly plan?: { readonly slots: number; readonly numel: number }) {}

  /** Slot `slot` as a buffer of `n` floats (contents left from earlier use). */
  buffer(slot: number, n: number): Float32Array {
    const plan = this.plan;
    if (plan !== undefined && slot < plan.slots && n <= plan.numel) {
      if (this.arena === undefined) this.arena = F32Arena.create(plan.slots, plan.numel);
      if (this.arena !== null) return this.arena.view(slot, n);
    }
    let buf = this.slots[slot];
    if (buf === undefined || buf.length < n) {
      buf = new Float32Array(Math.max(n, buf?.length ?? 0));
      this.slots[slot] = buf;
    }
    return buf.subarray(0, n);
  }

  /** `name` of `sd` into slot `slot`; with a batch, the values are there once the batch has run. */
  read(sd: StateDict, name: string, slot: number, batch?: ReadBatch): Float32Array {
    if (!canReadInto(sd)) return sd.loadF32(name);
    return sd.loadF32Into(name, this.buffer(slot, numel(sd.info(name).shape)), batch);
  }

  /** The arena once a slot lives there (a helper thread may read and sum into it), else null. */
  get liveArena(): F32Arena | null {
    return this.arena ?? null;
  }
}

/**
 * The task-vector methods' start: a pool with `_pretrained_` and at least one fine-tuned model, loaded
 * and checked against each other. `base` is θ₀; `finetuned` are the θᵢ in the pool's order.
 */
export async function loadTaskVectorSources(owner: string, input: PoolInput): Promise<{ pool: BaseModelPool; set: SourceSet; base: Source; finetuned: Source[] }> {
  const pool = toPool(input);
  if (!pool.hasPretrained) throw new UserError(`${owner}: the model pool needs a '_pretrained_' model`);
  if (pool.modelNames.length === 0) throw new UserError(`${owner}: the model pool has no fine-tuned models besides '_pretrained_'`);
  const set = await loadChecked(owner, pool, ['_pretrained_', ...pool.modelNames]);
  const [base, ...finetuned] = set.list;
  return { pool, set, base: base!, finetuned };
}

/**
 * The two-model methods' start (linear interpolation, SLERP): exactly two models in the pool, whatever their
 * names (the merge runner's 'all-models' layout then loads and checks them); fusion_bench asserts
 * `all_model_names == 2` (a list against an int, always false) — it means two.
 */
export function checkTwoModels(owner: string, input: PoolInput): BaseModelPool {
  const pool = toPool(input);
  const names = pool.allModelNames;
  if (names.length !== 2) throw new UserError(`${owner}: expects exactly 2 models in the pool, got ${names.length} (${names.join(', ')})`);
  return pool;
}
