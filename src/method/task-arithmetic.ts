/**
 * fusion_bench's TaskArithmeticAlgorithm: θ₀ + λ·Σᵢ(θᵢ − θ₀). As in fusion_bench, the task vectors are
 * summed first (in model order), the sum is scaled, then added to the pretrained weights, all in float32.
 * Inside a sweep the sums are kept (the runner's cache, key "task-vector-sum"), so later jobs only read θ₀.
 */
import { runContext, type RunContext } from '../run-context.js';
import type { ParamDef } from './param-def.js';
import { P, readMemberParams, TaskVectorMergeBase, type FamilyMember } from './task-vector-family.js';

const NAME = 'TaskArithmeticAlgorithm';
const PARAMS: readonly ParamDef[] = [P.scaling_factor, P.inplace];

export class TaskArithmeticAlgorithm extends TaskVectorMergeBase {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'task arithmetic: θ₀ + λ·Σ task vectors';
  readonly scaling_factor: number;
  readonly inplace: boolean;

  constructor(config: Record<string, unknown>, ctx: RunContext = runContext()) {
    super(ctx);
    const v = readMemberParams(NAME, PARAMS, config, ctx);
    this.scaling_factor = v.scaling_factor as number;
    this.inplace = v.inplace as boolean;
  }

  protected member(): FamilyMember {
    return { name: NAME, dare: null, ties: null, scale: () => this.scaling_factor, cacheCombined: true };
  }
}
