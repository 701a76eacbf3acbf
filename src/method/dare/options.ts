/**
 * DARE's config keys. `seed` is ours: fusion_bench draws from torch's global generator, which the
 * program's `seed` (`L.seed_everything`) seeds; so without its own `seed` a DARE method takes the
 * program's (the run context's seed), else 0.
 */
import type { RunContext } from '../../run-context.js';
import type { Params } from '../params.js';
import type { DareOptions } from './dare-reader.js';

export function dareOptions(p: Params, rescaleDefault: boolean | undefined, ctx?: RunContext): DareOptions {
  return {
    sparsity_ratio: p.number('sparsity_ratio', { min: 0, max: 1 }),
    only_on_linear_weights: p.bool('only_on_linear_weights'),
    rescale: p.bool('rescale', rescaleDefault),
    seed: p.seed('seed', ctx?.seed ?? 0),
  };
}
