/**
 * An ensemble of CLIP vision towers evaluated as fusion_bench's ensemble modules do: every member runs
 * on the same preprocessed batch (one onnxruntime session each), and the members' outputs are
 * aggregated field by field — so the pooled outputs, before `visual_projection` — by the mean
 * (EnsembleModule), the weighted sum (WeightedEnsembleModule) or the element-wise max
 * (MaxModelPredictor); the projection of the aggregate gives the image embeddings.
 */
import type { ClipVisionConfig } from '../../models/clip/config.js';
import type { ClipOutputs, ClipVisionSession } from '../../models/clip/session.js';
import { f32, torchColumnSum } from '../../method/f32.js';
import type { EnsembleCombine } from '../../method/result.js';

export class EnsembleVisionSession {
  private readonly vals: Float32Array;

  constructor(
    private readonly members: readonly ClipVisionSession[],
    private readonly combine: EnsembleCombine,
    private readonly weights: readonly number[] | null,
    /** visual_projection.weight, [projection_dim, hidden]. */
    private readonly projection: Float32Array,
  ) {
    this.vals = new Float32Array(members.length);
  }

  get config(): ClipVisionConfig {
    return this.members[0]!.config;
  }

  async run(pixelValues: Float32Array, batch: number): Promise<ClipOutputs> {
    const outs: Float32Array[] = [];
    for (const m of this.members) outs.push((await m.run(pixelValues, batch)).pooled);
    const pooled = this.aggregate(outs);
    return { pooled, embeds: project(pooled, this.projection, batch) };
  }

  /** torch.stack(outputs) then mean / (· weights).sum / max over dim 0, in float32. */
  private aggregate(outs: Float32Array[]): Float32Array {
    const n = outs.length;
    const out = new Float32Array(outs[0]!.length);
    const vals = this.vals;
    const w = this.weights?.map(f32) ?? [];
    for (let i = 0; i < out.length; i++) {
      if (this.combine === 'max-model') {
        let m = outs[0]![i]!;
        for (let k = 1; k < n; k++) m = Math.max(m, outs[k]![i]!);
        out[i] = m;
        continue;
      }
      for (let k = 0; k < n; k++) vals[k] = this.combine === 'weighted' ? f32(outs[k]![i]! * w[k]!) : outs[k]![i]!;
      const s = torchColumnSum(vals, n);
      out[i] = this.combine === 'mean' ? s / n : s;
    }
    return out;
  }

  async dispose(): Promise<void> {
    for (const m of this.members) await m.dispose();
  }
}

/** pooled [batch, hidden] · projectionᵀ → [batch, projection_dim] (float64 accumulation, float32 result). */
function project(pooled: Float32Array, projection: Float32Array, batch: number): Float32Array {
  const hidden = pooled.length / batch;
  const dim = projection.length / hidden;
  const out = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < dim; j++) {
      let acc = 0;
      const po = b * hidden;
      const pr = j * hidden;
      for (let h = 0; h < hidden; h++) acc += pooled[po + h]! * projection[pr + h]!;
      out[b * dim + j] = acc;
    }
  }
  return out;
}
