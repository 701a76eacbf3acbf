/**
 * fusion_bench's DareTaskArithmetic: task vectors with random drop (and rescale), summed in model order,
 * scaled, added to the pretrained weights.
 */
import type { RunContext } from '../../run-context.js';
import type { ParamDef } from '../param-def.js';
import { dareOf, P, readMemberParams, TaskVectorMergeBase, type DareOptions, type FamilyMember } from '../task-vector-family.js';

const NAME = 'DareTaskArithmetic';
const PARAMS: readonly ParamDef[] = [P.scaling_factor, P.sparsity_ratio, P.only_on_linear_weights, P.rescale(true), P.seed];

export class DareTaskArithmetic extends TaskVectorMergeBase {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'DARE task arithmetic: random drop and rescale, then task arithmetic';
  readonly scaling_factor: number;
  readonly dare: DareOptions;

  constructor(config: Record<string, unknown>, ctx?: RunContext) {
    super(ctx);
    const v = readMemberParams(NAME, PARAMS, config, ctx);
    this.scaling_factor = v.scaling_factor as number;
    this.dare = dareOf(v);
  }

  protected member(): FamilyMember {
    return { name: NAME, dare: this.dare, ties: null, scale: () => this.scaling_factor, cacheCombined: false };
  }
}
