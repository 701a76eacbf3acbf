/**
 * Task arithmetic, TIES and DARE as one family (mergekit's GeneralizedTaskArithmeticMerge): per tensor,
 * the task vectors τₖ = θₖ − θ₀, optionally sparsified (DARE's random drop), combined (a plain sum in
 * model order, or TIES' trim / elect / disjoint merge), then θ₀ + λ·combined, all in float32 in
 * fusion_bench's order of operations. Each fusion_bench class is a member with its own parameters.
 */
import type { Model } from '../modelpool/model.js';
import type { RunContext } from '../run-context.js';
import { addDiff, addInPlace, baseAddScaled, subInPlace } from './f32.js';
import { isLinearWeight, randomDrop, uniformStream } from './dare/random-drop.js';
import { readParams, type ParamDef } from './param-def.js';
import type { PoolInput, Scratch } from './sources.js';
import { runTensorMerge, type TensorInputs, type TensorKernel, type TensorSource } from './tensor-merge.js';
import { keepFraction, planTies, TiesMerger, type TaskVectorReader, type TiesMergeFunc } from './ties-core.js';

export interface DareOptions {
  readonly sparsity_ratio: number;
  readonly only_on_linear_weights: boolean;
  readonly rescale: boolean;
  readonly seed: number;
}

export interface TiesOptions {
  readonly scaling_factor: number;
  readonly threshold: number;
  readonly remove_keys: readonly string[];
  readonly merge_func: TiesMergeFunc;
}

/** A member of the family: how task vectors are sparsified and combined, and the scale. */
export interface FamilyMember {
  readonly name: string;
  readonly dare: DareOptions | null;
  readonly ties: Omit<TiesOptions, 'scaling_factor'> | null;
  /** λ, given the number of fine-tuned models. */
  readonly scale: (count: number) => number;
  /** Whether a sweep keeps the combined task vectors (only where they depend on nothing swept over). */
  readonly cacheCombined: boolean;
}

const MERGE_FUNCS: readonly TiesMergeFunc[] = ['sum', 'mean', 'max'];

/** The parameter declarations the members share. */
export const P = {
  scaling_factor: { name: 'scaling_factor', type: 'float', doc: 'λ: the merged model is θ₀ + λ·(combined task vectors)' },
  inplace: { name: 'inplace', type: 'bool', default: true, doc: "fusion_bench's in-place flag; inputs are never modified here" },
  threshold: { name: 'threshold', type: 'float', min: 0, max: 100, doc: 'TIES: fraction (≤ 1) or percentage (> 1) of each task vector kept by magnitude' },
  remove_keys: { name: 'remove_keys', type: 'str[]', default: [], doc: 'TIES: tensors left out of the merge (they keep θ₀)' },
  merge_func: (dflt?: TiesMergeFunc): ParamDef => ({
    name: 'merge_func', type: 'choice', choices: MERGE_FUNCS, ...(dflt === undefined ? {} : { default: dflt }),
    // fusion_bench keeps the part after the last '-' ("dis-mean" → "mean")
    normalize: (s) => s.split('-').at(-1)!,
    doc: 'TIES: disjoint merge of the entries agreeing with the elected sign',
  }),
  sparsity_ratio: { name: 'sparsity_ratio', type: 'float', min: 0, max: 1, doc: 'DARE: probability of dropping each task-vector entry' },
  only_on_linear_weights: { name: 'only_on_linear_weights', type: 'bool', doc: 'DARE: drop only in Linear weights (2-D .weight, not embeddings or norms)' },
  rescale: (dflt?: boolean): ParamDef => ({ name: 'rescale', type: 'bool', ...(dflt === undefined ? {} : { default: dflt }), doc: 'DARE: divide the kept entries by 1 − sparsity_ratio' }),
  // ours: fusion_bench draws from torch's global generator, which the program's `seed` seeds
  seed: { name: 'seed', type: 'int', defaultFrom: (ctx) => ctx?.seed ?? 0, defaultText: "the program's seed, else 0", doc: 'DARE: seed of the random drop' },
} satisfies Record<string, ParamDef | ((d?: never) => ParamDef)>;

/** The DARE options among read values. */
export function dareOf(v: Record<string, unknown>): DareOptions {
  return { sparsity_ratio: v.sparsity_ratio as number, only_on_linear_weights: v.only_on_linear_weights as boolean, rescale: v.rescale as boolean, seed: v.seed as number };
}

/** The TIES options among read values. */
export function tiesOf(v: Record<string, unknown>): TiesOptions {
  return { scaling_factor: v.scaling_factor as number, threshold: v.threshold as number, remove_keys: v.remove_keys as string[], merge_func: v.merge_func as TiesMergeFunc };
}

/** Reads a member's declared parameters (unknown keys are errors). */
export function readMemberParams(name: string, defs: readonly ParamDef[], config: unknown, ctx?: RunContext): Record<string, unknown> {
  return readParams(name, defs, config, ctx);
}

/** Floats per piece of a tensor read at once (128 KiB: the pieces of 8 models fit in the CPU's L2 cache). */
const PIECE = 1 << 15;

/** The family's kernel for one member. */
export function familyKernel(m: FamilyMember): TensorKernel {
  const dare = m.dare;
  const drops = (t: TensorInputs) => dare !== null && (!dare.only_on_linear_weights || isLinearWeight(t.name, t.info));
  /** Task vector k of this tensor, DARE's drop applied (keyed by seed, model and tensor: order-free). */
  const taskVector = (t: TensorInputs, k: number, at?: number | Float32Array): Float32Array => {
    const tv = t.taskVector(k, at);
    if (drops(t)) randomDrop(tv, dare!.sparsity_ratio, dare!.rescale, uniformStream(dare!.seed, t.modelNames[k]!, t.name));
    return tv;
  };
  const finish = (t: TensorInputs, c: Float32Array): Float32Array => {
    baseAddScaled(c, t.base(), m.scale(t.count), c);
    return c;
  };

  /** Σₖ τₖ in model order, then (with `finished`) θ₀ + λ·Σ; the accumulator is `out` or fresh memory. */
  const sumTaskVectors = (t: TensorInputs, out: Float32Array | undefined, finished: boolean): Float32Array => {
    const target = out ?? new Float32Array(t.numel);
    const done = (c: Float32Array) => (finished ? finish(t, c) : c);
    if (dare !== null) {
      const acc = taskVector(t, 0, target);
      for (let k = 1; k < t.count; k++) addInPlace(acc, taskVector(t, k, 1));
      return done(acc);
    }
    // acc += f32(θₖ − θ₀), the same float32 operations as τₖ then the sum.
    const base = t.base();
    if (!t.ranges) {
      const acc = t.model(0, target);
      subInPlace(acc, base);
      for (let k = 1; k < t.count; k++) addDiff(acc, t.model(k, 1), base);
      return done(acc);
    }
    // In pieces, every model's piece read together (model 0's into the sum): read, θ₀ and the sum stay
    // in the CPU cache instead of going through memory once per model; finished there too. Where the
    // runner has a helper thread, it reads and sums pieces of its own; pieces it could not do are redone here.
    const acc = target.subarray(0, t.numel);
    const slots = Array.from({ length: t.count }, (_, k) => t.slot(k));
    const outs = slots.slice();
    const scale = m.scale(t.count);
    const sumPiece = (s: number) => {
      const e = Math.min(t.numel, s + PIECE);
      outs[0] = acc.subarray(s, e);
      for (let k = 1; k < t.count; k++) outs[k] = slots[k]!.subarray(0, e - s);
      t.modelRanges(s, outs);
      const a = outs[0];
      const b = base.subarray(s, e);
      subInPlace(a, b);
      for (let k = 1; k < t.count; k++) addDiff(a, outs[k]!, b);
      if (finished) baseAddScaled(a, b, scale, a);
    };
    const failed = t.taskVectorSumInPieces(acc, base, PIECE, finished ? scale : undefined);
    if (failed !== null) for (const p of failed) sumPiece(p * PIECE);
    else for (let s = 0; s < t.numel; s += PIECE) sumPiece(s);
    return acc;
  };

  const ties = m.ties;
  if (ties === null) {
    return {
      cacheKey: m.cacheCombined ? 'task-vector-sum' : undefined,
      combine: (t, out) => sumTaskVectors(t, out, false),
      combineFinished: (t, out) => sumTaskVectors(t, out, true),
      finish,
    };
  }

  const removed = new Set(ties.remove_keys);
  let merger: TiesMerger | null = null;
  let zeros = new Float32Array(0);
  /** θ₀ and the models (θₖ, or τₖ after DARE's drop with zeros for θ₀): τₖ = models[k] − base. */
  const inputs = (t: TensorInputs): { base: Float32Array; models: Float32Array[] } => {
    const base = t.base(); // θ₀ in slot 0 first
    if (dare === null) return { base, models: Array.from({ length: t.count }, (_, k) => t.model(k)) };
    const models = Array.from({ length: t.count }, (_, k) => taskVector(t, k));
    if (zeros.length < t.numel) zeros = new Float32Array(t.numel);
    return { base: zeros.subarray(0, t.numel), models };
  };
  return {
    select: (name) => !removed.has(name),
    prepare(source: TensorSource) {
      const reader: TaskVectorReader = {
        tasks: source.count,
        names: source.names,
        numel: (name) => source.numel(name),
        read: (name: string, scratch?: Scratch) => inputs(source.open(name, scratch)),
        scratch: source.scratch,
        pieces(name, scratch, visit) {
          const t = source.open(name, scratch);
          if (dare !== null || !t.ranges) {
            const { base, models } = inputs(t);
            return visit(base, models);
          }
          const b = t.work(1);
          const slots = Array.from({ length: t.count }, (_, k) => t.slot(k));
          for (let s = 0; s < t.numel; s += PIECE) {
            const e = Math.min(t.numel, s + PIECE);
            // every piece at the start of its buffer: the same few cached pages, whatever the tensor's size
            visit(t.baseRange(s, b.subarray(0, e - s)), t.modelRanges(s, slots.map((m) => m.subarray(0, e - s))));
          }
        },
      };
      merger = new TiesMerger(reader, planTies(reader, keepFraction(ties.threshold)), ties.merge_func);
    },
    combine(t, out) {
      if (dare !== null || !t.ranges || t.count >= 16) {
        const { base, models } = inputs(t);
        return merger!.merge(base, models, out, out && t.work(0));
      }
      const base = t.base(); // whole: `finish` adds it
      const slots = Array.from({ length: t.count }, (_, k) => t.slot(k));
      const piece = (s: number, e: number) => ({ base: base.subarray(s, e), models: t.modelRanges(s, slots.map((m) => m.subarray(0, e - s))) });
      return merger!.mergeInPieces(t.numel, PIECE, piece, out, out && t.work(0));
    },
    finish,
  };
}

/** The members' shared class: reads the declared parameters, runs the family kernel. */
export abstract class TaskVectorMergeBase {
  protected constructor(private readonly ctx: RunContext | undefined) {}

  /** The member this instance is, from its read parameters. */
  protected abstract member(): FamilyMember;

  async run(input: PoolInput): Promise<Model> {
    const m = this.member();
    return runTensorMerge(m.name, input, 'task-vectors', familyKernel(m), this.ctx);
  }
}
