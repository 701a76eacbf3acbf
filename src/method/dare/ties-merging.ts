/** fusion_bench's DareTiesMerging: TIES merging over task vectors after DARE's random drop. */
import type { RunContext } from '../../run-context.js';
import type { ParamDef } from '../param-def.js';
import { dareOf, P, readMemberParams, TaskVectorMergeBase, tiesOf, type DareOptions, type FamilyMember, type TiesOptions } from '../task-vector-family.js';

const NAME = 'DareTiesMerging';
// fusion_bench's DareTiesMerging has no defaults for rescale and merge_func
const PARAMS: readonly ParamDef[] = [
  P.sparsity_ratio, P.only_on_linear_weights, P.rescale(), P.scaling_factor, P.threshold, P.remove_keys, P.merge_func(), P.seed,
];

export class DareTiesMerging extends TaskVectorMergeBase {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'DARE TIES: random drop and rescale, then TIES merging';
  readonly dare: DareOptions;
  readonly ties: TiesOptions;

  constructor(config: Record<string, unknown>, ctx?: RunContext) {
    super(ctx);
    const v = readMemberParams(NAME, PARAMS, config, ctx);
    this.dare = dareOf(v);
    this.ties = tiesOf(v);
  }

  protected member(): FamilyMember {
    return { name: NAME, dare: this.dare, ties: this.ties, scale: () => this.ties.scaling_factor, cacheCombined: false };
  }
}
