/**
 * AdaMerging's test-time adaptation (fusion_bench's TaskWise/LayerWiseAdaMergingAlgorithm
 * .test_time_adaptation) over a ClipVisionGradSession: per step, one unlabeled batch per task, the
 * entropy of its zero-shot logits, the coefficient gradients summed over tasks (torch accumulates
 * `.grad` over the tasks' backward passes), one Adam step on the coefficients, then the merge again.
 */
import { UserError } from '../errors.js';
import type { ClipVisionGradSession } from './clip-vision-grad.js';
import type { MergeCoefficients } from './merge-coefficients.js';
import { Adam } from './optim.js';

export interface AdaMergingTask {
  readonly name: string;
  /** The task's zero-shot head, L2-normalised rows [classes, dim]. */
  readonly head: Float32Array;
  /** The task's next shuffled test batch (pixel values of session.batch images); labels are not used. */
  nextBatch(): Promise<Float32Array>;
}

export interface AdaMergingProgress {
  /** 1-based. */
  readonly step: number;
  /** Entropy per task at this step (before the update). */
  readonly losses: readonly number[];
  readonly weights: Float32Array;
  readonly imagesPerSecond: number;
}

export interface AdaMergingOptions {
  readonly lr: number;
  readonly maxSteps: number;
  /** Starting coefficients (MergeCoefficients.initial or loaded ones); not modified. */
  readonly init: Float32Array;
  readonly onStep?: (p: AdaMergingProgress) => void;
  /** Checked between tasks: when it returns true the run stops with what it has (Ctrl-C). */
  readonly stopRequested?: () => boolean;
}

export interface AdaMergingResult {
  readonly weights: Float32Array;
  /** Per step, the entropy per task. */
  readonly losses: number[][];
  /** Steps completed (maxSteps unless stopped). */
  readonly steps: number;
}

function addInto(acc: Float32Array, g: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] = Math.fround(acc[i]! + g[i]!);
}

export async function adaMerging(session: ClipVisionGradSession, coeffs: MergeCoefficients, tasks: readonly AdaMergingTask[], opts: AdaMergingOptions): Promise<AdaMergingResult> {
  if (!(opts.lr > 0)) throw new UserError(`AdaMerging: lr must be positive, got ${opts.lr}`);
  if (!Number.isInteger(opts.maxSteps) || opts.maxSteps < 1) throw new UserError(`AdaMerging: max_steps must be an integer ≥ 1, got ${opts.maxSteps}`);
  if (tasks.length === 0) throw new UserError('AdaMerging: no tasks to adapt on');
  const w = Float32Array.from(opts.init);
  const params = new Map([['merge_weight', w]]);
  const adam = new Adam({ lr: opts.lr });
  let merged = coeffs.merge(w);
  const losses: number[][] = [];
  let lastFinite: number | null = null;
  for (let step = 1; step <= opts.maxSteps; step++) {
    const started = performance.now();
    // ∂L/∂θ summed over tasks first, then one chain rule to the coefficients: ⟨Σₜ gₜ, τ⟩ = Σₜ ⟨gₜ, τ⟩
    // (the clamp mask is the same for every task), eight times fewer dot products on TA8.
    let summed: Map<string, Float32Array> | null = null;
    const stepLosses: number[] = [];
    for (const task of tasks) {
      if (opts.stopRequested?.()) return { weights: w, losses, steps: step - 1 };
      const pixels = await task.nextBatch();
      const r = await session.run((k) => merged.get(k)!, pixels, task.head);
      if (!Number.isFinite(r.loss)) {
        throw new UserError(`AdaMerging: the entropy of task ${task.name} is ${r.loss} at step ${step}; ${lastFinite === null ? 'no finite loss before it' : `the last finite loss was ${lastFinite}`}. Nothing was merged; try a smaller lr.`);
      }
      lastFinite = r.loss;
      stepLosses.push(r.loss);
      if (summed === null) summed = new Map(r.grads);
      else for (const [k, g] of r.grads) addInto(summed.get(k)!, g);
    }
    const acc = coeffs.gradient(w, summed!);
    adam.step(params, new Map([['merge_weight', acc]]));
    merged = coeffs.merge(w, merged);
    losses.push(stepLosses);
    const seconds = (performance.now() - started) / 1000;
    opts.onStep?.({ step, losses: stepLosses, weights: w, imagesPerSecond: (tasks.length * session.batch) / seconds });
  }
  return { weights: w, losses, steps: opts.maxSteps };
}
