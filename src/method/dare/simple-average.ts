/** fusion_bench's DareSimpleAverage: DareTaskArithmetic with scaling factor 1 / (number of models). */
import type { RunContext } from '../../run-context.js';
import type { ParamDef } from '../param-def.js';
import { dareOf, P, readMemberParams, TaskVectorMergeBase, type DareOptions, type FamilyMember } from '../task-vector-family.js';

const NAME = 'DareSimpleAverage';
const PARAMS: readonly ParamDef[] = [P.sparsity_ratio, P.only_on_linear_weights, P.rescale(true), P.seed];

export class DareSimpleAverage extends TaskVectorMergeBase {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'DARE simple average: random drop and rescale, then θ₀ + mean task vector';
  readonly dare: DareOptions;

  constructor(config: Record<string, unknown>, ctx?: RunContext) {
    super(ctx);
    this.dare = dareOf(readMemberParams(NAME, PARAMS, config, ctx));
  }

  protected member(): FamilyMember {
    return { name: NAME, dare: this.dare, ties: null, scale: (n) => 1 / n, cacheCombined: false };
  }
}
