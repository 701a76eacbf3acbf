/**
 * fusion_bench's WUDIMerging (Cheng et al., "Whoever Started the Interference Should End It", ICML 2025):
 * per matrix, start from X = Σ τᵢ and run `iter_num` steps of torch's Adam (lr 1e-5, betas 0.9/0.999,
 * eps 1e-8, no weight decay) on Σᵢ ‖(X − τᵢ) τᵢᵀ‖² / ‖τᵢ‖². No autodiff is needed: the gradient is
 * 2 Σᵢ (X − τᵢ) τᵢᵀτᵢ / ‖τᵢ‖² = 2 (X·A − B) with A = Σᵢ τᵢᵀτᵢ / ‖τᵢ‖² (n×n) and B = Σᵢ τᵢ τᵢᵀτᵢ / ‖τᵢ‖²
 * (m×n) formed once, so a step is one m×n×n product (float64, rounded to float32 as the gradient torch
 * would hold). Adam's update follows torch 1.13's single-tensor code in float32, operation by operation.
 * Tensors that are not matrices (and `exclude_keys`): Σ τᵢ / n, fusion_bench's rule.
 */
import type { Model } from '../modelpool/model.js';
import type { RunContext } from '../run-context.js';
import { f32, torchColumnSum } from './f32.js';
import { gram, matmul } from './linalg/dense.js';
import { readParams, type ParamDef } from './param-def.js';
import type { PoolInput } from './sources.js';
import { runTensorMerge } from './tensor-merge.js';

const NAME = 'WUDIMerging';
const LR = 1e-5;
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/** torch.sum(stack(tvs), dim=0) in float32. */
function columnSum(tvs: readonly Float32Array[]): Float32Array {
  const n = tvs.length;
  const out = new Float32Array(tvs[0]!.length);
  const vals = new Float32Array(n);
  for (let j = 0; j < out.length; j++) {
    for (let i = 0; i < n; i++) vals[i] = tvs[i]![j]!;
    out[j] = torchColumnSum(vals, n);
  }
  return out;
}

/** WUDI's optimisation of one m×n matrix; returns the merged task vector. */
export function wudiMatrix(tvs: readonly Float32Array[], m: number, n: number, iterNum: number): Float32Array {
  const x = columnSum(tvs);
  const A = new Float64Array(n * n);
  const B = new Float64Array(m * n);
  for (const tv of tvs) {
    const t64 = Float64Array.from(tv);
    let sq = 0;
    for (const v of tv) sq += v * v;
    const l2 = f32(sq); // torch.square(torch.norm(τ)) in float32
    if (l2 === 0) continue; // a zero task vector adds 0/0 to the loss in torch; it carries no direction
    const g = gram(t64, m, n); // τᵀτ
    for (let i = 0; i < A.length; i++) A[i] = A[i]! + g[i]! / l2;
    const tg = matmul(t64, g, m, n, n);
    for (let i = 0; i < B.length; i++) B[i] = B[i]! + tg[i]! / l2;
  }
  const expAvg = new Float32Array(x.length);
  const expAvgSq = new Float32Array(x.length);
  const c1 = f32(1 - BETA1);
  const c2 = f32(1 - BETA2);
  const b1 = f32(BETA1);
  const b2 = f32(BETA2);
  for (let step = 1; step <= iterNum; step++) {
    const xa = matmul(Float64Array.from(x), A, m, n, n);
    const bc1 = 1 - BETA1 ** step;
    const bc2sqrt = Math.sqrt(1 - BETA2 ** step);
    const stepSize = f32(LR / bc1);
    const bc2s = f32(bc2sqrt);
    for (let i = 0; i < x.length; i++) {
      const g = f32(2 * (xa[i]! - B[i]!));
      const ea = f32(f32(expAvg[i]! * b1) + f32(g * c1));
      const es = f32(f32(expAvgSq[i]! * b2) + f32(f32(g * g) * c2));
      expAvg[i] = ea;
      expAvgSq[i] = es;
      const denom = f32(f32(Math.sqrt(es)) / bc2s) + EPS;
      x[i] = x[i]! + f32(-stepSize * f32(ea / f32(denom)));
    }
  }
  return x;
}

export class WUDIMerging {
  static readonly params: readonly ParamDef[] = [
    { name: 'iter_num', type: 'int', min: 0, doc: 'Adam steps per matrix' },
    { name: 'exclude_keys', type: 'str[]', default: [], doc: 'matrices that are not optimised (they get Σ τᵢ / n)' },
  ];
  static readonly configKeys: readonly string[] = WUDIMerging.params.map((d) => d.name);
  static readonly summary = 'WUDI merging: per-layer Adam on the task-vector interference loss (data-free)';
  readonly iter_num: number;
  readonly exclude_keys: readonly string[];

  constructor(config: Record<string, unknown>, private readonly ctx?: RunContext) {
    const v = readParams(NAME, WUDIMerging.params, config);
    this.iter_num = v.iter_num as number;
    this.exclude_keys = v.exclude_keys as string[];
  }

  async run(input: PoolInput): Promise<Model> {
    const excluded = new Set(this.exclude_keys);
    return runTensorMerge(NAME, input, 'task-vectors', {
      combine: (t) => {
        const tvs = Array.from({ length: t.count }, (_, k) => t.taskVector(k));
        const s = t.info.shape;
        if (s.length === 2 && !excluded.has(t.name)) return wudiMatrix(tvs, s[0]!, s[1]!, this.iter_num);
        const sum = columnSum(tvs);
        for (let i = 0; i < sum.length; i++) sum[i] = f32(sum[i]! / tvs.length);
        return sum;
      },
      finish: (t, merged) => {
        const theta0 = t.base();
        for (let i = 0; i < merged.length; i++) merged[i] = theta0[i]! + merged[i]!;
        return merged;
      },
    }, this.ctx);
  }
}
