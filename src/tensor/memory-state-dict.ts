/**
 * State dicts held in memory: small models, test fixtures, and results that must be materialised.
 */
import { numel } from './dtype.js';
import type { DType, StateDict, Tensor, TensorInfo } from './types.js';

/** Builds a Tensor, checking that `data` fits `shape`. */
export function makeTensor(dtype: DType, shape: readonly number[], data: Float32Array): Tensor {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`bad tensor shape ${JSON.stringify(shape)}`);
  if (data.length !== numel(shape)) {
    throw new Error(`tensor data has ${data.length} values but shape ${JSON.stringify(shape)} needs ${numel(shape)}`);
  }
  return { dtype, shape: Object.freeze([...shape]), data };
}

/**
 * A state dict over tensors in memory. `loadF32` returns a copy, so callers may modify what they get
 * (the StateDict contract) without changing the dict.
 */
export class MemoryStateDict implements StateDict {
  private readonly tensors: ReadonlyMap<string, Tensor>;
  private readonly order: readonly string[];

  constructor(tensors: Iterable<readonly [string, Tensor]> | ReadonlyMap<string, Tensor>) {
    const map = new Map<string, Tensor>();
    for (const [name, t] of tensors) {
      if (map.has(name)) throw new Error(`MemoryStateDict: tensor '${name}' given twice`);
      map.set(name, makeTensor(t.dtype, t.shape, t.data));
    }
    this.tensors = map;
    this.order = Object.freeze([...map.keys()]);
  }

  names(): readonly string[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.get(name);
    return { dtype: t.dtype, shape: t.shape };
  }

  loadF32(name: string): Float32Array {
    return this.get(name).data.slice();
  }

  /** The stored tensor itself, without a copy: do not modify its data. */
  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (t === undefined) throw new Error(`no tensor named '${name}' in this state dict`);
    return t;
  }
}

/** Loads `names` (default: all) of `sd` into memory, in that order. */
export function materialize(sd: StateDict, names: readonly string[] = sd.names()): MemoryStateDict {
  return new MemoryStateDict(names.map((n) => {
    const info = sd.info(n);
    return [n, makeTensor(info.dtype, info.shape, sd.loadF32(n))] as const;
  }));
}

/** A state dict of float32 tensors from plain name → (shape, data) pairs; handy for tests and tools. */
export function stateDictFromArrays(entries: Record<string, { shape: readonly number[]; data: Float32Array | readonly number[]; dtype?: DType }>): MemoryStateDict {
  return new MemoryStateDict(
    Object.entries(entries).map(([n, e]) => [n, makeTensor(e.dtype ?? 'F32', e.shape, e.data instanceof Float32Array ? e.data : Float32Array.from(e.data))] as const),
  );
}
