/** What every merging method is: constructed from its config keys, run over a pool, returning a model. */
import type { Model } from '../modelpool/model.js';
import type { PoolInput } from './sources.js';
import type { RunContext } from '../run-context.js';

export interface MergeAlgorithm {
  run(pool: PoolInput): Promise<Model>;
}

export interface MergeAlgorithmClass {
  new (config: Record<string, unknown>, ctx?: RunContext): MergeAlgorithm;
  /** fusion_bench's constructor parameters, in Python's positional order (for `_args_`). */
  readonly configKeys: readonly string[];
}
