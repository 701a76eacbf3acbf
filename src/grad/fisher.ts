/**
 * Fisher merging as fusion_bench computes it (after MergeLM): the diagonal Fisher of a model is the mean
 * over examples of the squared gradient, per batch, of Σ √p.detach() · log p (the 'fisher' loss of
 * ClipVisionGradSession); models are then averaged parameter by parameter weighted by their Fisher
 * (plus `minimal_fisher_weight`), each model's weight optionally divided by the L2 norm of its whole
 * Fisher (`normalize_fisher_weight`). Float32 in torch's order where it is element-wise.
 */
import type { ClipVisionGradSession } from './clip-vision-grad.js';

const f = Math.fround;

export interface FisherBatches {
  /** The next batch of pixel values (session.batch images or fewer), or null at the end of the data. */
  next(): Promise<Float32Array | null>;
}

/**
 * Σ over batches of (∂ loss_b / ∂θ)², divided by the number of examples used: batches are taken while
 * fewer than `numExamples` examples have been used (so the last batch may overshoot, as in fusion_bench).
 */
export async function diagonalFisher(session: ClipVisionGradSession, weight: (key: string) => Float32Array, head: Float32Array, batches: FisherBatches, numExamples: number): Promise<{ fisher: Map<string, Float32Array>; examples: number }> {
  const per = session.config.numChannels * session.config.imageSize ** 2;
  const fisher = new Map<string, Float32Array>();
  let examples = 0;
  while (examples < numExamples) {
    const pixels = await batches.next();
    if (pixels === null) break;
    const r = await session.run(weight, pixels, head);
    for (const [k, g] of r.grads) {
      let acc = fisher.get(k);
      if (!acc) {
        fisher.set(k, (acc = new Float32Array(g.length)));
        for (let i = 0; i < g.length; i++) acc[i] = f(g[i]! * g[i]!);
      } else {
        for (let i = 0; i < g.length; i++) acc[i] = f(acc[i]! + f(g[i]! * g[i]!));
      }
    }
    examples += pixels.length / per;
  }
  for (const acc of fisher.values()) for (let i = 0; i < acc.length; i++) acc[i] = f(acc[i]! / examples);
  return { fisher, examples };
}

export interface FisherMergeOptions {
  readonly normalize: boolean;
  readonly minimal: number;
}

/** Per model: 1/n, times (with normalize) its share of 1 / (‖F_model‖₂ + minimal) over the models. */
export function fisherModelCoefficients(fishers: readonly ReadonlyMap<string, Float32Array>[], keys: readonly string[], opts: FisherMergeOptions): number[] {
  const n = fishers.length;
  const base = f(1 / n);
  if (!opts.normalize) return fishers.map(() => base);
  const norms = fishers.map((F) => {
    let total = 0;
    for (const k of keys) {
      let s = 0;
      for (const v of F.get(k)!) s += v * v;
      const paramNorm = f(Math.sqrt(s));
      total += paramNorm * paramNorm;
    }
    return f(Math.sqrt(total));
  });
  const inv = norms.map((x) => f(1 / f(x + f(opts.minimal))));
  let sum = 0;
  for (const x of inv) sum = f(sum + x);
  return inv.map((x) => f(base * f(x / sum)));
}

/** Σᵢ cᵢ·(Fᵢ + m)·θᵢ / Σᵢ cᵢ·(Fᵢ + m) for one tensor. */
export function fisherMergeTensor(params: readonly Float32Array[], fishers: readonly Float32Array[], coefficients: readonly number[], minimal: number, out?: Float32Array): Float32Array {
  const len = params[0]!.length;
  const res = out && out.length >= len ? out.subarray(0, len) : new Float32Array(len);
  const m = f(minimal);
  for (let e = 0; e < len; e++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < params.length; i++) {
      const w = f(coefficients[i]! * f(fishers[i]![e]! + m));
      num = f(num + f(w * params[i]![e]!));
      den = f(den + w);
    }
    res[e] = f(num / den);
  }
  return res;
}
