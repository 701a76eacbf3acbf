/** Task vectors with DARE's random drop applied (all parameters, or only Linear weights). */
import type { TaskVectorReader } from '../ties-core.js';
import type { Scratch, Source } from '../sources.js';
import { isLinearWeight, randomDrop, uniformStream } from './random-drop.js';

export interface DareOptions {
  readonly sparsity_ratio: number;
  readonly only_on_linear_weights: boolean;
  readonly rescale: boolean;
  readonly seed: number;
}

export function dareReader(inner: TaskVectorReader, base: Source, finetuned: readonly Source[], opts: DareOptions): TaskVectorReader {
  return {
    tasks: inner.tasks,
    names: inner.names,
    numel: (name) => inner.numel(name),
    read(name: string, scratch?: Scratch) {
      const r = inner.read(name, scratch);
      if (!opts.only_on_linear_weights || isLinearWeight(name, base.model.stateDict.info(name))) {
        r.tvs.forEach((tv, t) => randomDrop(tv, opts.sparsity_ratio, opts.rescale, uniformStream(opts.seed, finetuned[t]!.name, name)));
      }
      return r;
    },
  };
}
