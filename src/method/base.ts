/** What every merging method is: constructed from its config keys, run over a pool, returning a model. */
import type { Model } from '../modelpool/model.js';
import type { PoolInput } from './sources.js';
import type { RunContext } from '../run-context.js';
import type { ParamDef } from './param-def.js';

/** `R`: one model, or a result that is not one model (per-task models, an ensemble). */
export interface MergeAlgorithm<R = Model> {
  run(pool: PoolInput): Promise<R>;
}

export interface MergeAlgorithmClass<R = Model> {
  new (config: Record<string, unknown>, ctx?: RunContext): MergeAlgorithm<R>;
  /**
   * The parameters, declared once: names (Python's positional order), types, defaults, ranges, docs.
   * Every method here declares them (test/method/param-def.test.ts); a class without them is registered
   * with `configKeys` only and accepts any keys, as before the seam.
   */
  readonly params?: readonly ParamDef[];
  /** fusion_bench's constructor parameters, in Python's positional order (for `_args_`): the params' names. */
  readonly configKeys: readonly string[];
  /** One line for listings. */
  readonly summary?: string;
}
