/**
 * Per-task models held the memory-sane way: one shared float32 vector per tensor plus one bit per
 * parameter per task (and a scalar per task); task t's model is θ₀ + f32(shared ⊙ maskₜ · scaleₜ), computed
 * tensor by tensor when read (TALL masks, EMR merging).
 */
import type { Model } from '../modelpool/model.js';
import { ComputedStateDict } from './computed-state-dict.js';
import { f32 } from './f32.js';
import { PerTaskModels } from './result.js';
import { isMerged, Scratch, type Source, type SourceSet } from './sources.js';

/** A bit per element. */
export class BitMask {
  readonly bits: Uint8Array;

  constructor(readonly length: number) {
    this.bits = new Uint8Array((length + 7) >>> 3);
  }

  set(i: number, on: boolean): void {
    this.bits[i >>> 3]! |= +on << (i & 7);
  }

  get(i: number): number {
    return (this.bits[i >>> 3]! >>> (i & 7)) & 1;
  }
}

export interface MaskedTaskData {
  readonly shared: ReadonlyMap<string, Float32Array>;
  /** Per task (in `finetuned` order): tensor name → mask. */
  readonly masks: readonly ReadonlyMap<string, BitMask>[];
  /** Per task; null: 1 (the product is then exact). */
  readonly scales: readonly number[] | null;
}

/**
 * A lazy model over θ₀: each floating tensor is θ₀'s, handed to `addDelta` to add the model's change in
 * place; integer buffers pass through. Closing it frees nothing shared.
 */
export function deltaModel(base: Source, source: string, addDelta: (name: string, theta0: Float32Array) => void): Model {
  const sd = base.model.stateDict;
  const stateDict = new ComputedStateDict({
    names: sd.names(),
    info: (name) => sd.info(name),
    compute: (name) => {
      const out = sd.loadF32(name);
      if (isMerged(sd.info(name))) addDelta(name, out);
      return out;
    },
    raw: (name) => (isMerged(sd.info(name)) ? undefined : sd.loadRaw?.(name)),
  });
  return { stateDict, config: base.model.config, source };
}

export function maskedTaskModels(owner: string, set: SourceSet, base: Source, finetuned: readonly Source[], data: MaskedTaskData, evaluation: 'own-task' | 'every-task'): PerTaskModels {
  const build = (task: string): Model => {
    const t = finetuned.findIndex((f) => f.name === task);
    const mask = data.masks[t]!;
    const scale = data.scales === null ? 1 : f32(data.scales[t]!);
    return deltaModel(base, `${owner} model for ${task}`, (name, out) => {
      const s = data.shared.get(name)!;
      const m = mask.get(name)!;
      // a float 0/1 mask as torch multiplies it: 0·τ adds 0 (NaN only where τ is)
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + f32(f32(s[i]! * m.get(i)) * scale);
    });
  };
  return new PerTaskModels(finetuned.map((f) => f.name), build, evaluation, () => set.close());
}

/**
 * One pass over the floating tensors: θ₀ and the task vectors τₖ = θₖ − θ₀ (float32) of each, in scratch
 * buffers that the next tensor reuses (copy what must be kept). Closes the models if `fn` throws.
 */
export function forEachTaskVectors(set: SourceSet, base: Source, finetuned: readonly Source[], fn: (name: string, tvs: Float32Array[]) => void): void {
  const sd = base.model.stateDict;
  try {
    const scratch = new Scratch();
    for (const name of sd.names()) {
      if (!isMerged(sd.info(name))) continue;
      const theta0 = scratch.read(sd, name, 0);
      fn(name, finetuned.map((f, t) => {
        const tv = scratch.read(f.model.stateDict, name, t + 1);
        for (let i = 0; i < tv.length; i++) tv[i] = tv[i]! - theta0[i]!;
        return tv;
      }));
    }
  } catch (e) {
    set.close();
    throw e;
  }
}
