/**
 * The per-tensor seam (mergekit's `MergeMethod.make_task` per weight): a method that merges tensor by
 * tensor supplies a kernel — the inputs' tensors of one name → the merged tensor, with an optional first
 * pass for global statistics — and this runner does the rest every such method needs: loading the
 * pool's models, the key/shape check, closing them on failure or when the merged model is closed, the
 * lazy (streaming) merged model, and keeping the parameter-independent part of each tensor inside a
 * sweep. Kernels see typed arrays only, so a faster kernel (WebAssembly, a worker) can replace a loop
 * without touching loading or caching.
 */
import { UserError } from '../errors.js';
import type { BaseModelPool } from '../modelpool/base-pool.js';
import type { Model } from '../modelpool/model.js';
import { numel } from '../tensor/dtype.js';
import type { TensorInfo } from '../tensor/types.js';
import { canReadRanges, pieceFileOf } from '../modelpool/read-into.js';
import { cached, type RunContext } from '../run-context.js';
import type { ReadBatch } from '../tensor/io/read-batch.js';
import type { PieceFile } from '../tensor/io/read-helper.js';
import { MergeThreads } from './merge-threads.js';
import { subInPlace } from './f32.js';
import { isMerged, loadChecked, loadTaskVectorSources, mergedModel, readInto, Scratch, toPool, type PoolInput, type Source, type SourceSet } from './sources.js';
import { modelsKey } from './models-key.js';

/**
 * `task-vectors`: a pool with `_pretrained_` (θ₀) and fine-tuned models θₖ, whose task vectors θₖ − θ₀
 * are merged; `models`: the pool's regular models (`_pretrained_` left out), merged as they are.
 */
/**
 * Which of the pool's models a kernel gets: θ₀ and the fine-tuned ones ('task-vectors'), the regular models
 * ('models'), or every model, special names such as `_pretrained_` included ('all-models': the two-model
 * interpolations of fusion_bench, which take the pool's models whatever their names).
 */
export type InputLayout = 'task-vectors' | 'models' | 'all-models';

/** Where a read lands: a scratch slot number, or a buffer the caller owns. */
export type ReadTarget = number | Float32Array;

/** One tensor's inputs, read on demand (a kernel that is served from the sweep cache reads none). */
export interface TensorInputs {
  readonly name: string;
  readonly info: TensorInfo;
  readonly numel: number;
  /** How many models are merged: fine-tuned models (task-vectors layout) or models. */
  readonly count: number;
  /** Their names in the pool, in the pool's order. */
  readonly modelNames: readonly string[];
  /** θ₀ in scratch slot 0, read once per tensor (task-vectors layout only). */
  base(): Float32Array;
  /** Model k's tensor θₖ (default slot k + 1). */
  model(k: number, at?: ReadTarget): Float32Array;
  /** Model k's task vector θₖ − θ₀ in float32 (default slot k + 1; task-vectors layout only). */
  taskVector(k: number, at?: ReadTarget): Float32Array;
  /** Work buffer j (0 or 1) of numel floats, contents unspecified, beside the inputs' slots. */
  work(j: number): Float32Array;
  /** Whether `modelRange` can read pieces of every model's tensor (models read from files can). */
  readonly ranges: boolean;
  /** Values `start` … of model k's tensor into `out` (all of it); only where `ranges`. */
  modelRange(k: number, start: number, out: Float32Array): Float32Array;
  /** Values `start` … of every model's tensor, model k's into outs[k]; only where `ranges`. Returns `outs`. */
  modelRanges(start: number, outs: Float32Array[]): Float32Array[];
  /**
   * Σₖ f32(θₖ − θ₀), in model order, into `acc` (numel floats) piece by piece on two threads, each
   * reading and summing pieces of its own (θ₀ = `base`, already read). Null where that path is not
   * open (no helper thread, inputs that are not plain file values, buffers outside the arena, fewer
   * than two pieces): the caller loops itself. Otherwise the pieces that failed, for the caller to redo.
   */
  taskVectorSumInPieces(acc: Float32Array, base: Float32Array, piece: number, scale?: number): number[] | null;
  /** The same for θ₀ (task-vectors layout). */
  baseRange(start: number, out: Float32Array): Float32Array;
  /** Model k's slot as a buffer of numel floats without reading (contents unspecified). */
  slot(k: number): Float32Array;
}

/** Every merged tensor's inputs, for first passes (global statistics) and for kernels that re-read. */
export interface TensorSource {
  readonly layout: InputLayout;
  /** The tensors the kernel merges, in the base model's order. */
  readonly names: readonly string[];
  readonly count: number;
  readonly modelNames: readonly string[];
  numel(name: string): number;
  /** The inputs of `name`, read through `scratch` (fresh arrays without one). */
  open(name: string, scratch?: Scratch): TensorInputs;
  /** The runner's buffers: a first pass may read through them, as no tensor is merged yet. */
  readonly scratch: Scratch;
}

export interface TensorKernel {
  /** Which floating tensors are merged (default all); the others keep the base model's values. */
  select?(name: string, info: TensorInfo): boolean;
  /** A pass over every merged tensor before the first is merged (TIES' thresholds). */
  prepare?(source: TensorSource): void;
  /**
   * The part of the merge that reads the inputs. Its result must be fresh memory or `out` (then it is
   * the merged tensor's storage). With `cacheKey` set and a sweep cache, it is kept for later jobs.
   */
  combine(t: TensorInputs, out?: Float32Array): Float32Array;
  /** From the combined tensor to the merged one (scale, add θ₀); in place is fine. Default: as is. */
  finish?(t: TensorInputs, combined: Float32Array): Float32Array;
  /**
   * `finish(t, combine(t, out))` in one pass over the inputs, used where nothing keeps the combined
   * tensor (no sweep cache): the same values, each piece finished while it is in the CPU's cache.
   */
  combineFinished?(t: TensorInputs, out?: Float32Array): Float32Array;
  /**
   * What `combine` depends on besides the models (e.g. "task-vector-sum", or TIES' threshold): equal
   * keys over the same models give equal combined tensors, so a sweep over `finish`'s parameters reads
   * the inputs once. Absent: nothing is kept.
   */
  readonly cacheKey?: string;
}

class Inputs implements TensorInputs {
  private theta0: Float32Array | null = null;
  readonly info: TensorInfo;
  readonly numel: number;

  constructor(private readonly src: RunnerSource, readonly name: string, private readonly scratch: Scratch | undefined) {
    this.info = src.baseSd.info(name);
    this.numel = numel(this.info.shape);
  }

  get count(): number {
    return this.src.count;
  }

  get modelNames(): readonly string[] {
    return this.src.modelNames;
  }

  base(): Float32Array {
    if (this.src.base === null) throw new Error(`tensor kernel: no θ₀ in the '${this.src.layout}' layout`);
    this.theta0 ??= this.read(this.src.base, 0);
    return this.theta0;
  }

  model(k: number, at: ReadTarget = k + 1): Float32Array {
    return this.read(this.src.inputs[k]!, at);
  }

  taskVector(k: number, at: ReadTarget = k + 1): Float32Array {
    const theta0 = this.base();
    const tv = this.model(k, at);
    subInPlace(tv, theta0);
    return tv;
  }

  get ranges(): boolean {
    return this.src.ranges;
  }

  modelRange(k: number, start: number, out: Float32Array): Float32Array {
    return this.range(this.src.inputs[k]!, start, out);
  }

  taskVectorSumInPieces(acc: Float32Array, base: Float32Array, piece: number, scale?: number): number[] | null {
    const arena = this.scratch?.liveArena;
    if (!arena || !this.src.ranges || this.numel < 2 * piece || acc.buffer !== arena.buffer || base.buffer !== arena.buffer) return null;
    const helper = this.src.threads.helperThread();
    if (!helper?.sums(this.count)) return null;
    const models: PieceFile[] = [];
    for (const s of this.src.inputs) {
      const f = pieceFileOf(s.model.stateDict, this.name);
      if (f === null) return null;
      models.push(f);
    }
    const slots = models.map((_, k) => this.slot(k).byteOffset);
    return helper.sumPieces({
      numel: this.numel, piece, acc: acc.byteOffset, base: base.byteOffset, models, scale,
      mine: slots, helpers: slots.map((at) => at + 4 * piece),
    });
  }

  modelRanges(start: number, outs: Float32Array[]): Float32Array[] {
    // on this thread: handing pieces that this thread then computes on to another core's cache cost more
    // than the reads it saved (TIES measured slower, at twice the CPU time)
    outs.forEach((out, k) => this.range(this.src.inputs[k]!, start, out));
    return outs;
  }

  baseRange(start: number, out: Float32Array): Float32Array {
    if (this.src.base === null) throw new Error(`tensor kernel: no θ₀ in the '${this.src.layout}' layout`);
    return this.range(this.src.base, start, out);
  }

  slot(k: number): Float32Array {
    return this.scratch ? this.scratch.buffer(k + 1, this.numel) : new Float32Array(this.numel);
  }

  private range(s: Source, start: number, out: Float32Array, batch?: ReadBatch): Float32Array {
    const sd = s.model.stateDict;
    if (!canReadRanges(sd)) throw new Error(`tensor kernel: model '${s.name}' cannot read pieces of '${this.name}'`);
    return sd.loadF32RangeInto(this.name, start, out, batch);
  }

  work(j: number): Float32Array {
    return this.scratch ? this.scratch.buffer(this.src.count + 1 + j, this.numel) : new Float32Array(this.numel);
  }

  /** A whole tensor, its 1 MiB pieces read on two threads where the runner has a read helper. */
  private read(s: Source, at: ReadTarget): Float32Array {
    const sd = s.model.stateDict;
    if (typeof at !== 'number' || this.scratch) {
      const batch = this.src.threads.batch();
      const out = typeof at !== 'number' ? readInto(sd, this.name, at, batch) : this.scratch!.read(sd, this.name, at, batch);
      batch.run();
      return out;
    }
    return sd.loadF32(this.name);
  }
}

/**
 * Scratch slots: 0 θ₀, 1…count the inputs, then two work buffers and the merged tensor. They are views
 * into one WebAssembly arena sized for the largest merged tensor (SIMD kernels; one allocation whose
 * pages stay warm from tensor to tensor), where WebAssembly can hold it.
 */
const EXTRA_SLOTS = 3;

class RunnerSource implements TensorSource {
  readonly modelNames: readonly string[];
  readonly baseSd;
  readonly scratch: Scratch;
  /** Whether every model reads pieces of tensors. */
  readonly ranges: boolean;
  /** The second thread; merged tensors are computed in its `nextResultSlot()` before the caller's buffer gets them. */
  readonly threads: MergeThreads;

  constructor(
    readonly layout: InputLayout,
    readonly names: readonly string[],
    readonly base: Source | null,
    readonly inputs: readonly Source[],
    first: Source,
  ) {
    this.modelNames = inputs.map((s) => s.name);
    this.baseSd = first.model.stateDict;
    let largest = 0;
    let total = 0;
    for (const n of names) {
      const size = numel(this.baseSd.info(n).shape);
      largest = Math.max(largest, size);
      total += size;
    }
    const resultSlot = inputs.length + EXTRA_SLOTS;
    this.ranges = [...(base ? [base] : []), ...inputs].every((s) => canReadRanges(s.model.stateDict));
    this.scratch = new Scratch({ slots: resultSlot + 2, numel: largest });
    this.threads = new MergeThreads(this.scratch, resultSlot, 4 * total * (inputs.length + (base ? 1 : 0)));
  }

  get count(): number {
    return this.inputs.length;
  }

  numel(name: string): number {
    return numel(this.baseSd.info(name).shape);
  }

  open(name: string, scratch?: Scratch): TensorInputs {
    return new Inputs(this, name, scratch);
  }
}

/** The loaded models of a layout: the set to close, the model giving names/config, θ₀ and the inputs. */
async function loadLayout(owner: string, layout: InputLayout, input: PoolInput): Promise<{ pool: BaseModelPool; set: SourceSet; first: Source; base: Source | null; inputs: Source[] }> {
  if (layout === 'task-vectors') {
    const { pool, set, base, finetuned } = await loadTaskVectorSources(owner, input);
    return { pool, set, first: base, base, inputs: finetuned };
  }
  const pool = toPool(input);
  const names = layout === 'all-models' ? pool.allModelNames : pool.modelNames;
  if (names.length === 0) throw new UserError(`${owner}: the model pool has no models to merge`);
  const set = await loadChecked(owner, pool, names);
  return { pool, set, first: set.list[0]!, base: null, inputs: [...set.list] };
}

/** Sweep-kept combined tensors (name → tensor) of one kernel key over one set of models. */
type Combined = Map<string, Float32Array>;

/**
 * Runs a per-tensor method: loads and checks the models, runs the kernel's first pass, and returns the
 * lazy merged model (closing it closes the models). Tensors the kernel does not select, and integer
 * buffers, are the first model's (θ₀ in the task-vectors layout).
 */
export async function runTensorMerge(owner: string, input: PoolInput, layout: InputLayout, kernel: TensorKernel, ctx?: RunContext): Promise<Model> {
  const { pool, set, first, base, inputs } = await loadLayout(owner, layout, input);
  try {
    const sd = first.model.stateDict;
    const names = sd.names().filter((n) => isMerged(sd.info(n)) && (kernel.select?.(n, sd.info(n)) ?? true));
    const source = new RunnerSource(layout, names, base, inputs, first);
    set.onClose(() => source.threads.release());
    let kept: Combined | null = null;
    if (kernel.cacheKey !== undefined && ctx?.sweepCache) {
      const key = [kernel.cacheKey, modelsKey(pool, base ? [base, ...inputs] : inputs)].join('\n');
      kept = await cached<Combined>(ctx, key, () => new Map());
    }
    // A complete set of kept tensors needs no first pass: the pass only feeds `combine`.
    if (kernel.prepare && !(kept !== null && names.every((n) => kept!.has(n)))) kernel.prepare(source);
    const taking = new Set(names);
    const scratch = source.scratch;
    return mergedModel(owner, first, set, (name, callerOut) => {
      if (!taking.has(name)) return sd.loadF32(name);
      const t = source.open(name, scratch);
      // Computed beside its inputs (where the SIMD kernels reach it); the caller's buffer gets a copy.
      const out = callerOut && scratch.buffer(source.threads.nextResultSlot(), t.numel);
      const hit = kept?.get(name);
      let combined: Float32Array;
      if (hit !== undefined) {
        combined = out ? out.subarray(0, hit.length) : new Float32Array(hit.length);
        combined.set(hit);
      } else if (kept === null && kernel.combineFinished) {
        return kernel.combineFinished(t, out);
      } else {
        combined = kernel.combine(t, out);
        kept?.set(name, combined.slice());
      }
      return kernel.finish ? kernel.finish(t, combined) : combined;
    }, () => source.threads.writeBehind());
  } catch (e) {
    set.close();
    throw e;
  }
}

export type { PoolInput };
