/**
 * fusion_bench's SlerpMergeAlgorithm: spherical interpolation per tensor between the pool's two models,
 * falling back to linear interpolation when their directions are nearly collinear. Norms and dot
 * products are accumulated in double (f32.ts' dotScaled, SIMD in the merge runner's arena) and rounded
 * to float32 (torch reduces in float32 with its own blocking, so these scalars agree to about 1e-7
 * relative); everything element-wise is float32.
 */
import type { Model } from '../modelpool/model.js';
import { axpby, dotScaled, f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { checkTwoModels, type PoolInput } from './sources.js';
import { runTensorMerge } from './tensor-merge.js';

const NAME = 'SlerpMergeAlgorithm';

function norm(v: Float32Array): number {
  return f32(Math.sqrt(dotScaled(v, v)));
}

/** One tensor's slerp, as fusion_bench's `slerp_utils.slerp`; into `into` when given (as long as v0). */
export function slerpTensor(t: number, v0: Float32Array, v1: Float32Array, dotThreshold: number, epsilon: number, into?: Float32Array): Float32Array {
  const n0 = norm(v0);
  const n1 = norm(v1);
  // The normalised tensors only for the dot product: v / ‖v‖ in float32, skipped when ‖v‖ ≤ ε.
  const dot = f32(dotScaled(v0, v1, n0 > epsilon ? n0 : 1, n1 > epsilon ? n1 : 1));
  const out = into ?? new Float32Array(v0.length);
  if (Math.abs(dot) > dotThreshold) {
    axpby(out, f32(1 - t), v0, f32(t), v1);
    return out;
  }
  const theta0 = f32(Math.acos(dot));
  const sinTheta0 = f32(Math.sin(theta0));
  const thetaT = f32(theta0 * f32(t));
  const sinThetaT = f32(Math.sin(thetaT));
  const s0 = f32(f32(Math.sin(f32(theta0 - thetaT))) / sinTheta0);
  const s1 = f32(sinThetaT / sinTheta0);
  axpby(out, s0, v0, s1, v1);
  return out;
}

export class SlerpMergeAlgorithm {
  static readonly params: readonly ParamDef[] = [
    { name: 't', type: 'float', doc: 'interpolation factor from the first model (0) to the second (1)' },
    { name: 'DOT_THRESHOLD', type: 'float', default: 0.9995, doc: 'above this absolute cosine the models are interpolated linearly' },
    { name: 'epsilon', type: 'float', default: 1e-8, min: 0, doc: 'added to norms before normalising' },
  ];
  static readonly configKeys: readonly string[] = SlerpMergeAlgorithm.params.map((d) => d.name);
  static readonly summary = 'spherical linear interpolation of two models';
  readonly t: number;
  readonly DOT_THRESHOLD: number;
  readonly epsilon: number;

  constructor(config: Record<string, unknown>) {
    const v = readParams(NAME, SlerpMergeAlgorithm.params, config);
    this.t = v.t as number;
    this.DOT_THRESHOLD = v.DOT_THRESHOLD as number;
    this.epsilon = v.epsilon as number;
  }

  async run(input: PoolInput): Promise<Model> {
    const pool = checkTwoModels(NAME, input);
    return runTensorMerge(NAME, pool, 'all-models', {
      combine: (t, out) => slerpTensor(this.t, t.model(0), t.model(1), this.DOT_THRESHOLD, this.epsilon, out?.subarray(0, t.numel)),
    });
  }
}
