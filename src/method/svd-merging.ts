/**
 * The SVD-based task-vector merges, as per-tensor kernels on the seam (tensor-merge.ts):
 * - fusion_bench's TaskSingularVectorMerging (TSV-M, Gargiulo et al., CVPR 2025),
 * - IsotropicMergingInCommonSubspace (Iso-C) and IsotropicMergingInCommonAndTaskSubspace (Iso-CTS,
 *   Marczak et al., ICML 2025).
 * Matrices are decomposed in float64 (linalg/dense.ts) from the float32 task vectors; the float32 steps
 * around them (sums, means, scaling, adding θ₀) follow fusion_bench's order.
 *
 * fusion_bench's rule for tensors that are not matrices (biases, LayerNorm weights, the 4-D patch
 * embedding, the class embedding) and for `exclude_keys`: they are not decomposed; they get the running
 * mean of the task vectors, new += (τᵢ − new) / (i + 1), in float32 (Iso-C: Σ τᵢ / n).
 */
import { UserError } from '../errors.js';
import { baseAddScaled, f32 } from './f32.js';
import { matmul, polarWithValues, svdThin, svdThinComplement, type ThinSvd } from './linalg/dense.js';
import { polarAll, sharedF32, sharedF64, svdThinAll } from './linalg/svd-pool.js';
import { readParams, type ParamDef } from './param-def.js';
import { loadTaskVectorSources, type PoolInput } from './sources.js';
import { deltaModel, forEachTaskVectors } from './masked-task-models.js';
import { PerTaskModels } from './result.js';
import { runTensorMerge, type TensorInputs, type TensorKernel } from './tensor-merge.js';
import type { Model } from '../modelpool/model.js';
import type { RunContext } from '../run-context.js';

/** [m, n] when the tensor is decomposed: 2-D and not excluded. */
function matrixShape(t: TensorInputs, excluded: ReadonlySet<string>): [number, number] | null {
  const s = t.info.shape;
  return s.length === 2 && !excluded.has(t.name) ? [s[0]!, s[1]!] : null;
}

/** fusion_bench's running mean of the task vectors (float32), for tensors that are not decomposed. */
function runningMean(tvs: readonly Float32Array[]): Float32Array {
  const out = Float32Array.from(tvs[0]!);
  for (let i = 1; i < tvs.length; i++) {
    const tv = tvs[i]!;
    const d = i + 1;
    for (let j = 0; j < out.length; j++) out[j] = out[j]! + f32(f32(tv[j]! - out[j]!) / d);
  }
  return out;
}

/** Σ τᵢ in model order, float32 (Python's `sum`, which starts from 0). */
function sequentialSum(tvs: readonly Float32Array[]): Float32Array {
  const out = Float32Array.from(tvs[0]!);
  for (let i = 1; i < tvs.length; i++) {
    const tv = tvs[i]!;
    for (let j = 0; j < out.length; j++) out[j] = out[j]! + tv[j]!;
  }
  return out;
}

function allTaskVectors(t: TensorInputs): Float32Array[] {
  return Array.from({ length: t.count }, (_, k) => t.taskVector(k));
}

/**
 * Shared memory the task vectors of the matrix being decomposed are read into (instead of the runner's
 * scratch slots), so that the SVD pool's workers (svd-pool.ts) read them where they are. One per merge,
 * one matrix at a time: the next matrix's read reuses it, and it goes with the merged model.
 */
class SharedStage {
  private buf: Float32Array = new Float32Array(0);

  taskVectors(t: TensorInputs): Float32Array[] {
    const len = t.numel;
    if (this.buf.length < t.count * len) this.buf = sharedF32(t.count * len);
    const buf = this.buf;
    return Array.from({ length: t.count }, (_, k) => t.taskVector(k, buf.subarray(k * len, (k + 1) * len)));
  }
}

function toF64(a: Float32Array): Float64Array {
  return Float64Array.from(a);
}

/** U (m×k) diag(s) V (k×n) scaled by `c`, as float32. */
function product(u: Float64Array, s: Float64Array, v: Float64Array, m: number, k: number, n: number, c = 1): Float32Array {
  const us = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) us[i * k + j] = u[i * k + j]! * s[j]! * c;
  return Float32Array.from(matmul(us, v, m, k, n));
}

function mean(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return a.length > 0 ? s / a.length : 0;
}

/** Residual singular values below this fraction of ‖τᵢ‖_F are rounding, not signal. */
const RESIDUAL_TOL = 1e-12;

function frobenius(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** Python's round(): halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Copies rows [0, rows) of an r×n matrix into rows [at, at + rows) of a k×n one. */
function putRows(dst: Float64Array, src: Float64Array, n: number, at: number, rows: number): void {
  dst.set(src.subarray(0, rows * n), at * n);
}

/** Copies columns [0, cols) of an m×k1 matrix into columns [at, at + cols) of an m×k2 one. */
function putCols(dst: Float64Array, k2: number, src: Float64Array, k1: number, m: number, at: number, cols: number): void {
  for (let i = 0; i < m; i++) for (let j = 0; j < cols; j++) dst[i * k2 + at + j] = src[i * k1 + j]!;
}

const EXCLUDE_KEYS: ParamDef = { name: 'exclude_keys', type: 'str[]', default: [], doc: 'matrices that are not decomposed (they get the mean task vector)' };

// ---------------------------------------------------------------------------------------------------
// TSV-M

const TSV = 'TaskSingularVectorMerging';

/** TSV-M's factors of one matrix: polar(U) (m×k), the stacked singular values, polar(Vᵀ) (k×n), r per task. */
export interface TsvFactors {
  readonly pu: Float64Array;
  readonly s: Float64Array;
  readonly pv: Float64Array;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly r: number;
}

/**
 * TSV-M of one matrix: each task's top ⌊k/T⌋ singular triplets side by side, the stacked U and V
 * replaced by their polar factors (decorrelated), times the stacked singular values.
 */
export function tsvMatrix(tvs: readonly Float32Array[], m: number, n: number): Float32Array {
  const f = tsvFactors(tvs, m, n);
  return product(f.pu, f.s, f.pv, m, f.k, n);
}

/** Task i's part of TSV-M (fusion_bench's single-task model): its block of the factors. */
export function tsvTaskMatrix(f: TsvFactors, i: number): Float32Array {
  const { m, n, k, r } = f;
  const u = new Float64Array(m * r);
  for (let a = 0; a < m; a++) for (let j = 0; j < r; j++) u[a * r + j] = f.pu[a * k + i * r + j]!;
  return product(u, f.s.subarray(i * r, (i + 1) * r), f.pv.subarray(i * r * n, (i + 1) * r * n), m, r, n);
}

export function tsvFactors(tvs: readonly Float32Array[], m: number, n: number): TsvFactors {
  const T = tvs.length;
  const k = Math.min(m, n);
  const r = Math.trunc(k * (1 / T)); // int(s.shape[0] * sv_reduction), in double as Python
  const sumU = sharedF64(m * k);
  const sumS = new Float64Array(k);
  const sumV = sharedF64(k * n);
  svdThinAll(tvs, m, n, r).forEach((d, i) => {
    putCols(sumU, k, d.u, d.k, m, i * r, r);
    sumS.set(d.s.subarray(0, r), i * r);
    putRows(sumV, d.vt, n, i * r, r);
  });
  const [pu, pv] = polarAll([{ a: sumU, m, n: k }, { a: sumV, m: k, n }]);
  return { pu: pu!, s: sumS, pv: pv!, m, n, k, r };
}

export class TaskSingularVectorMerging {
  static readonly params: readonly ParamDef[] = [
    { name: 'alpha', type: 'float|float[]', default: null, doc: 'a number scales the merged task vector; a list (one per model) scales each task vector first' },
    EXCLUDE_KEYS,
    { name: 'return_single_task_models', type: 'bool', default: false, doc: 'also return each task’s model (θ₀ + its part of the merge), evaluated and saved by name' },
  ];
  static readonly configKeys: readonly string[] = TaskSingularVectorMerging.params.map((d) => d.name);
  static readonly summary = 'Task Singular Vectors merging (TSV-M): decorrelated low-rank task matrices';
  readonly alpha: number | readonly number[] | null;
  readonly exclude_keys: readonly string[];
  readonly return_single_task_models: boolean;

  constructor(config: Record<string, unknown> = {}, private readonly ctx?: RunContext) {
    const v = readParams(TSV, TaskSingularVectorMerging.params, config);
    this.alpha = v.alpha as number | number[] | null;
    this.exclude_keys = v.exclude_keys as string[];
    this.return_single_task_models = v.return_single_task_models as boolean;
  }

  private checkAlpha(count: number, names: readonly string[]): void {
    if (Array.isArray(this.alpha) && this.alpha.length !== count) {
      throw new UserError(`${TSV}: alpha has ${this.alpha.length} values for ${count} models (${names.join(', ')}); give one per model or a single number`);
    }
  }

  /** Task vectors scaled by a per-model alpha list, in place (state_dict_mul before the SVDs). */
  private scaleTaskVectors(tvs: Float32Array[]): void {
    if (!Array.isArray(this.alpha)) return;
    const a = this.alpha.map(f32);
    tvs.forEach((tv, i) => { for (let j = 0; j < tv.length; j++) tv[j] = f32(tv[j]! * a[i]!); });
  }

  /** θ₀ + α·merged with a single α (state_dict_mul, then state_dict_add), else θ₀ + merged; in place. */
  private addScaled(out: Float32Array, merged: Float32Array, theta0: Float32Array, scaled: boolean): Float32Array {
    const s = scaled && typeof this.alpha === 'number' ? f32(this.alpha) : null;
    for (let i = 0; i < out.length; i++) out[i] = (s === null ? merged[i]! : f32(merged[i]! * s)) + theta0[i]!;
    return out;
  }

  /** The merged model; with return_single_task_models, each task's model and the merged one ('merged'). */
  async run(input: PoolInput): Promise<Model | PerTaskModels> {
    if (this.return_single_task_models) return this.runWithSingleTaskModels(input);
    const excluded = new Set(this.exclude_keys);
    const stage = new SharedStage();
    const kernel: TensorKernel = {
      prepare: (source) => this.checkAlpha(source.count, source.modelNames),
      combine: (t) => {
        const shape = matrixShape(t, excluded);
        const tvs = shape ? stage.taskVectors(t) : allTaskVectors(t);
        this.scaleTaskVectors(tvs);
        return shape ? tsvMatrix(tvs, shape[0], shape[1]) : runningMean(tvs);
      },
      finish: (t, merged) => this.addScaled(merged, merged, t.base(), true),
    };
    return runTensorMerge(TSV, input, 'task-vectors', kernel, this.ctx);
  }

  /**
   * fusion_bench's dict {model name: θ₀ + task's part, ..., merged: θ₀ + α·merged}. One pass keeps each
   * matrix's factors (polar(U), σ, polar(Vᵀ): about two matrices, whatever the number of tasks) and the
   * mean task vector of the other tensors; every model is computed from them when read.
   */
  private async runWithSingleTaskModels(input: PoolInput): Promise<PerTaskModels> {
    const { set, base, finetuned } = await loadTaskVectorSources(TSV, input);
    const excluded = new Set(this.exclude_keys);
    const factors = new Map<string, TsvFactors>();
    const means = new Map<string, Float32Array>();
    const sd = base.model.stateDict;
    try {
      this.checkAlpha(finetuned.length, finetuned.map((f) => f.name));
    } catch (e) {
      set.close();
      throw e;
    }
    forEachTaskVectors(set, base, finetuned, (name, tvs) => {
      this.scaleTaskVectors(tvs);
      const s = sd.info(name).shape;
      if (s.length === 2 && !excluded.has(name)) factors.set(name, tsvFactors(tvs, s[0]!, s[1]!));
      else means.set(name, runningMean(tvs));
    });
    const names = [...finetuned.map((f) => f.name), 'merged'];
    const build = (label: string): Model => {
      const i = names.indexOf(label);
      const merged = label === 'merged';
      return deltaModel(base, `${TSV} ${merged ? 'merged model' : `model for ${label}`}`, (name, out) => {
        const f = factors.get(name);
        const tv = f === undefined ? means.get(name)! : merged ? product(f.pu, f.s, f.pv, f.m, f.k, f.n) : tsvTaskMatrix(f, i);
        this.addScaled(out, tv, out, merged);
      });
    };
    return new PerTaskModels(names, build, 'each-model', () => set.close());
  }
}

// ---------------------------------------------------------------------------------------------------
// Iso-C and Iso-CTS

const ISO_C = 'IsotropicMergingInCommonSubspace';
const ISO_CTS = 'IsotropicMergingInCommonAndTaskSubspace';
const SCALING: ParamDef = { name: 'scaling_factor', type: 'float', doc: 'λ: θ₀ + λ·(merged task vector)' };

/** Iso-C of one matrix M = Σ τᵢ: its polar factor times the mean singular value (a flat spectrum). */
export function isoCMatrix(sum: Float32Array, m: number, n: number): Float32Array {
  const { p, s } = polarWithValues(toF64(sum), m, n);
  const c = mean(s);
  const out = new Float32Array(m * n);
  for (let i = 0; i < out.length; i++) out[i] = p[i]! * c;
  return out;
}

/** The sizes Iso-CTS splits min(m, n) into, as fusion_bench computes them. */
export function isoCtsSplit(k: number, tasks: number, fraction: number): { common: number; perTask: number } {
  const common0 = Math.trunc(k * fraction);
  const taskTotal = roundHalfEven((k - common0) / tasks) * tasks;
  const common = k - taskTotal;
  return { common, perTask: Math.trunc((k - common) / tasks) };
}

/**
 * Iso-CTS of one matrix: the top singular directions of Σ τᵢ (the common subspace) plus, per task, the
 * top directions of τᵢ outside it; U and V stacked, replaced by their polar factors, with a flat
 * spectrum at the mean of the stacked singular values.
 */
export function isoCtsMatrix(tvs: readonly Float32Array[], m: number, n: number, fraction: number, name: string): Float32Array {
  const T = tvs.length;
  const k = Math.min(m, n);
  const { common, perTask } = isoCtsSplit(k, T, fraction);
  if (common < 0) throw new UserError(`${ISO_CTS}: tensor '${name}' [${m}, ${n}] is too small for ${T} task subspaces (common_space_fraction ${fraction} leaves ${common} common directions)`);
  // SVDs of τᵢ − Uc Ucᵀ τᵢ. What is left of τᵢ at float64 rounding level (τᵢ inside the common space) is
  // zero, not directions to keep at full weight in the polar factors.
  const zeroBelow = tvs.map((tv) => RESIDUAL_TOL * frobenius(tv));
  const sum = toF64(sequentialSum(tvs));
  let c: ThinSvd;
  let residuals: ThinSvd[];
  if (m <= n) {
    // the residuals live in Uc's complement, m − common (≈ T·perTask) dimensions: decomposed there, as
    // (m − common)×n matrices, they cost a small Gram instead of an n×n one (same matrices: svd-pool-jobs.ts)
    const cc = svdThinComplement(sum, m, n, common);
    const q = sharedF64(cc.rest * m);
    q.set(cc.complement);
    c = cc;
    residuals = svdThinAll(tvs, m, n, perTask, { zeroBelow, basis: { q, r: cc.rest } });
  } else {
    c = svdThin(sum, m, n, 0, common);
    const uc = sharedF64(m * common);
    putCols(uc, common, c.u, c.k, m, 0, common);
    residuals = svdThinAll(tvs, m, n, perTask, { zeroBelow, project: { p: uc, c: common } });
  }
  const U = sharedF64(m * k);
  const S = new Float64Array(k);
  const V = sharedF64(k * n);
  residuals.forEach((d, i) => {
    putCols(U, k, d.u, d.k, m, i * perTask, perTask);
    S.set(d.s.subarray(0, perTask), i * perTask);
    putRows(V, d.vt, n, i * perTask, perTask);
  });
  const at = T * perTask;
  putCols(U, k, c.u, c.k, m, at, common);
  S.set(c.s.subarray(0, common), at);
  putRows(V, c.vt, n, at, common);
  const [pu, pv] = polarAll([{ a: U, m, n: k }, { a: V, m: k, n }]);
  return product(pu!, new Float64Array(k).fill(mean(S)), pv!, m, k, n);
}

export class IsotropicMergingInCommonSubspace {
  static readonly params: readonly ParamDef[] = [SCALING, EXCLUDE_KEYS];
  static readonly configKeys: readonly string[] = IsotropicMergingInCommonSubspace.params.map((d) => d.name);
  static readonly summary = 'Iso-C: Σ task vectors with a flat (isotropic) spectrum';
  readonly scaling_factor: number;
  readonly exclude_keys: readonly string[];

  constructor(config: Record<string, unknown>, private readonly ctx?: RunContext) {
    const v = readParams(ISO_C, IsotropicMergingInCommonSubspace.params, config);
    this.scaling_factor = v.scaling_factor as number;
    this.exclude_keys = v.exclude_keys as string[];
  }

  async run(input: PoolInput): Promise<Model> {
    const excluded = new Set(this.exclude_keys);
    return runTensorMerge(ISO_C, input, 'task-vectors', {
      combine: (t) => {
        const T = t.count;
        const avg = sequentialSum(allTaskVectors(t));
        for (let j = 0; j < avg.length; j++) avg[j] = f32(avg[j]! / T); // sum(tvs) / num_tvs
        const shape = matrixShape(t, excluded);
        if (shape === null) return avg;
        for (let j = 0; j < avg.length; j++) avg[j] = f32(avg[j]! * T); // *= num_tvs, as fusion_bench
        return isoCMatrix(avg, shape[0], shape[1]);
      },
      finish: (t, merged) => {
        baseAddScaled(merged, t.base(), this.scaling_factor, merged);
        return merged;
      },
    }, this.ctx);
  }
}

export class IsotropicMergingInCommonAndTaskSubspace {
  static readonly params: readonly ParamDef[] = [
    SCALING,
    { name: 'common_space_fraction', type: 'float', min: 0, minExclusive: true, max: 1, doc: 'share of min(m, n) directions taken from the common subspace of Σ τᵢ' },
    EXCLUDE_KEYS,
  ];
  static readonly configKeys: readonly string[] = IsotropicMergingInCommonAndTaskSubspace.params.map((d) => d.name);
  static readonly summary = 'Iso-CTS: isotropic merge in the common and task-specific subspaces';
  readonly scaling_factor: number;
  readonly common_space_fraction: number;
  readonly exclude_keys: readonly string[];

  constructor(config: Record<string, unknown>, private readonly ctx?: RunContext) {
    const v = readParams(ISO_CTS, IsotropicMergingInCommonAndTaskSubspace.params, config);
    this.scaling_factor = v.scaling_factor as number;
    this.common_space_fraction = v.common_space_fraction as number;
    this.exclude_keys = v.exclude_keys as string[];
  }

  async run(input: PoolInput): Promise<Model> {
    const excluded = new Set(this.exclude_keys);
    const stage = new SharedStage();
    return runTensorMerge(ISO_CTS, input, 'task-vectors', {
      combine: (t) => {
        const shape = matrixShape(t, excluded);
        const tvs = shape ? stage.taskVectors(t) : allTaskVectors(t);
        return shape ? isoCtsMatrix(tvs, shape[0], shape[1], this.common_space_fraction, t.name) : runningMean(tvs);
      },
      finish: (t, merged) => {
        baseAddScaled(merged, t.base(), this.scaling_factor, merged);
        return merged;
      },
    }, this.ctx);
  }
}
