/**
 * Test helpers for the merging methods: seeded random state dicts, a state dict that counts its loads,
 * and float64 reference arithmetic over flat arrays.
 */
import { MemoryStateDict, makeTensor } from '../../src/tensor/memory-state-dict.js';
import type { StateDict, TensorInfo } from '../../src/tensor/types.js';
import type { Model } from '../../src/modelpool/model.js';

import { mulberry32 } from '../../src/util/prng.js';
export { mulberry32 };

/** A small model layout with a linear weight, a bias, an embedding, a norm and a 4-D conv weight. */
export const LAYOUT: Record<string, number[]> = {
  'enc.layers.0.fc1.weight': [6, 5],
  'enc.layers.0.fc1.bias': [6],
  'enc.embeddings.position_embedding.weight': [4, 5],
  'enc.layer_norm.weight': [5],
  'enc.patch_embedding.weight': [3, 2, 2, 2],
};

export type Arrays = Record<string, Float64Array>;

/**
 * Random tensors. With `grid`, values are multiples of 1/16 in [-2, 2]: float32 differences and small sums
 * are then exact, so ties and exact zeros happen and float32 and float64 agree on every comparison.
 */
export function randomArrays(seed: number, opts: { grid?: boolean; layout?: Record<string, number[]>; scale?: number; around?: Arrays } = {}): Arrays {
  const rnd = mulberry32(seed);
  const out: Arrays = {};
  for (const [name, shape] of Object.entries(opts.layout ?? LAYOUT)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const base = opts.around ? opts.around[name]![i]! : 0;
      const r = opts.grid ? Math.round((rnd() * 4 - 2) * 16) / 16 : Math.fround((rnd() * 2 - 1) * (opts.scale ?? 1));
      a[i] = opts.grid ? base + r * (opts.scale ?? 1) : Math.fround(base + r);
    }
    out[name] = a;
  }
  return out;
}

export function toStateDict(arrays: Arrays, layout: Record<string, number[]> = LAYOUT): MemoryStateDict {
  return new MemoryStateDict(Object.entries(arrays).map(([n, a]) => [n, makeTensor('F32', layout[n]!, Float32Array.from(a))] as const));
}

export function model(arrays: Arrays, source = 'test', layout: Record<string, number[]> = LAYOUT): Model {
  return { stateDict: toStateDict(arrays, layout), config: { model_type: 'test' }, source };
}

/** Wraps a state dict and counts loads per tensor. */
export class CountingStateDict implements StateDict {
  readonly loads = new Map<string, number>();
  closed = false;
  constructor(private readonly inner: StateDict) {}
  names(): readonly string[] {
    return this.inner.names();
  }
  has(n: string): boolean {
    return this.inner.has(n);
  }
  info(n: string): TensorInfo {
    return this.inner.info(n);
  }
  loadF32(n: string): Float32Array {
    this.loads.set(n, (this.loads.get(n) ?? 0) + 1);
    return this.inner.loadF32(n);
  }
  close(): void {
    this.closed = true;
  }
  total(): number {
    let s = 0;
    for (const v of this.loads.values()) s += v;
    return s;
  }
}

/** Every tensor of a model, loaded, as float64 arrays. */
export function readAll(m: Model): Arrays {
  const out: Arrays = {};
  for (const n of m.stateDict.names()) out[n] = Float64Array.from(m.stateDict.loadF32(n));
  return out;
}

export function mapArrays(ref: Arrays, f: (name: string, i: number) => number): Arrays {
  const out: Arrays = {};
  for (const [n, a] of Object.entries(ref)) out[n] = Float64Array.from(a, (_, i) => f(n, i));
  return out;
}

/** Largest |a − b| / (1 + |b|) over all tensors; throws on a name mismatch. */
export function maxRelErr(got: Arrays, want: Arrays): number {
  const gn = Object.keys(got).sort();
  const wn = Object.keys(want).sort();
  if (gn.join('|') !== wn.join('|')) throw new Error(`tensor names differ: ${gn} vs ${wn}`);
  let m = 0;
  for (const n of wn) {
    const a = got[n]!;
    const b = want[n]!;
    if (a.length !== b.length) throw new Error(`${n}: ${a.length} vs ${b.length} values`);
    for (let i = 0; i < a.length; i++) {
      const e = Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!));
      if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
    }
  }
  return m;
}
