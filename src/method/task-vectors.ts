/** Task vectors τᵢ = θᵢ − θ₀ of one tensor at a time, read from the loaded models. */
import { numel } from '../tensor/dtype.js';
import { subInPlace } from './f32.js';
import type { Scratch, Source } from './sources.js';
import type { TaskVectorReader } from './ties-core.js';

export function taskVectorReader(base: Source, finetuned: readonly Source[], names: readonly string[]): TaskVectorReader {
  return {
    tasks: finetuned.length,
    names,
    numel: (name) => numel(base.model.stateDict.info(name).shape),
    read(name: string, scratch?: Scratch) {
      const theta0 = scratch ? scratch.read(base.model.stateDict, name, 0) : base.model.stateDict.loadF32(name);
      const tvs = finetuned.map((f, t) => {
        const tv = scratch ? scratch.read(f.model.stateDict, name, t + 1) : f.model.stateDict.loadF32(name);
        subInPlace(tv, theta0);
        return tv;
      });
      return { base: theta0, tvs };
    },
  };
}
