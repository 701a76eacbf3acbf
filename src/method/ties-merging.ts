/**
 * fusion_bench's TiesMergingAlgorithm: θ₀ + λ·TIES(τ₁…τₙ) (see ties-core.ts). `remove_keys` leave the
 * merge and keep their pretrained values: fusion_bench drops them from the merged state dict and then
 * fails to load it strictly, so keeping θ₀ is what it evidently means.
 */
import type { RunContext } from '../run-context.js';
import type { ParamDef } from './param-def.js';
import { P, readMemberParams, TaskVectorMergeBase, tiesOf, type FamilyMember } from './task-vector-family.js';
import type { TiesMergeFunc } from './ties-core.js';

const NAME = 'TiesMergingAlgorithm';
const PARAMS: readonly ParamDef[] = [P.scaling_factor, P.threshold, P.remove_keys, P.merge_func('sum')];

export class TiesMergingAlgorithm extends TaskVectorMergeBase {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'TIES merging: trim, elect sign, disjoint merge of task vectors';
  readonly scaling_factor: number;
  readonly threshold: number;
  readonly remove_keys: readonly string[];
  readonly merge_func: TiesMergeFunc;

  constructor(config: Record<string, unknown>, ctx?: RunContext) {
    super(ctx);
    const o = tiesOf(readMemberParams(NAME, PARAMS, config, ctx));
    this.scaling_factor = o.scaling_factor;
    this.threshold = o.threshold;
    this.remove_keys = o.remove_keys;
    this.merge_func = o.merge_func;
  }

  protected member(): FamilyMember {
    return { name: NAME, dare: null, ties: this, scale: () => this.scaling_factor, cacheCombined: false };
  }
}
