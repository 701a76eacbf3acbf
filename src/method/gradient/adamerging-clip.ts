/**
 * fusion_bench's CLIPTaskWiseAdaMergingAlgorithm / CLIPLayerWiseAdaMergingAlgorithm (AdaMerging, ICLR
 * 2024) on CLIP vision towers: merge coefficients per task (or per task and parameter tensor) start at
 * `init_values` and are trained by Adam to minimise the entropy of the zero-shot predictions on
 * unlabeled test batches of each task (`modelpool.test_datasets`), gradients summed over tasks per step;
 * the result is θ₀ + Σᵢ clamp(λᵢ)·τᵢ. `weights: FILE | list` skips the training. The gradients come from
 * the tower's own ONNX graph (src/grad).
 */
import { UserError } from '../../errors.js';
import { adaMerging, type AdaMergingResult } from '../../grad/adamerging.js';
import type { ClipVisionGradSession } from '../../grad/clip-vision-grad.js';
import { readTensorFile, writeTensorFile } from '../../grad/io/tensor-file.js';
import { type CoefficientMode, MergeCoefficients } from '../../grad/merge-coefficients.js';
import { clipVisionConfigFrom } from '../../models/clip/config.js';
import { clipVisionParameterNames } from '../../models/clip/parameters.js';
import type { Model } from '../../modelpool/model.js';
import { subInPlace } from '../f32.js';
import { dirname, join } from 'node:path';
import { ensureDir } from '../../util/ensure-dir.js';
import { runContext, type RunContext } from '../../run-context.js';
import type { ParamDef } from '../param-def.js';
import { Params } from '../params.js';
import { loadTaskVectorSources, mergedModel, type PoolInput } from '../sources.js';
import { ClipTaskData, type ShuffledBatches } from './clip-tasks.js';

const PARAMS: readonly ParamDef[] = [
  { name: 'name', type: 'str', default: null, doc: 'clip_task_wise_adamerging or clip_layer_wise_adamerging (picks the variant; default: the class\'s)' },
  { name: 'weights', type: 'any', default: null, doc: 'merging weights to use instead of training: a .pt/.npy/.safetensors file or a list (of lists)' },
  { name: 'optimizer', type: 'choice', choices: ['adam'], default: 'adam', doc: 'the optimizer of the merging weights' },
  { name: 'lr', type: 'float', default: 1e-3, min: 0, minExclusive: true, doc: 'Adam learning rate' },
  { name: 'init_values', type: 'float', default: null, doc: 'initial merging weight (default 1/num_models)' },
  { name: 'clamp_weights', type: 'bool', default: false, doc: 'clamp the weights to [0, 1] when merging' },
  { name: 'tie_weights', type: 'bool', default: true, doc: 'functional_call argument in fusion_bench; no effect here' },
  { name: 'strict', type: 'bool', default: false, doc: 'functional_call argument in fusion_bench; no effect here' },
  { name: 'devices', type: 'any', default: 1, doc: 'accepted, no effect' },
  { name: 'batch_size', type: 'int', default: 16, min: 1, doc: 'test images per task per step' },
  { name: 'num_workers', type: 'int', default: 0, min: 0, doc: 'accepted, no effect' },
  { name: 'max_steps', type: 'int', default: 1000, min: 1, doc: 'adaptation steps' },
  { name: 'fast_dev_run', type: 'bool', default: null, doc: 'one step only (default: the program\'s fast_dev_run)' },
  { name: 'save_merging_weights', type: 'any', default: null, doc: 'file for the learned weights (.pt, .npy or .safetensors), or false' },
  { name: 'cache_dir', type: 'str', default: null, doc: 'accepted, no effect (heads are computed by the text tower)' },
  { name: 'seed', type: 'int', default: 0, doc: 'seed of the test-batch shuffling' },
];

const MODES: Record<string, CoefficientMode> = {
  clip_task_wise_adamerging: 'task_wise',
  clip_layer_wise_adamerging: 'layer_wise',
};

/** What a finished run learned, for reports. */
export interface AdaMergingSummary {
  readonly mode: CoefficientMode;
  readonly shape: number[];
  readonly weights: number[];
  /** Entropy per task at the last step (empty when the weights were loaded). */
  readonly finalLosses: Record<string, number>;
  readonly steps: number;
}

class ClipAdaMerging {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'AdaMerging: merging weights trained by entropy minimisation on unlabeled test batches';
  readonly mode: CoefficientMode;
  /** A file, or the coefficients given inline (a list, or a list of lists for layer-wise). */
  readonly weights: string | { data: number[]; shape: number[] } | null;
  readonly lr: number;
  readonly init_values: number | null;
  readonly clamp_weights: boolean;
  readonly batch_size: number;
  readonly max_steps: number;
  readonly fast_dev_run: boolean;
  readonly save_merging_weights: string | null;
  readonly seed: number;
  /** Set by run(). */
  summary: AdaMergingSummary | null = null;

  /** What the report says of the run beside the accuracies: the merging weights and the final entropies. */
  reportExtras(): Record<string, unknown> | null {
    const s = this.summary;
    if (s === null) return null;
    const weights = s.shape.length === 2 ? Array.from({ length: s.shape[0]! }, (_, i) => s.weights.slice(i * s.shape[1]!, (i + 1) * s.shape[1]!)) : s.weights;
    return { merging_weights: weights, merging_weights_shape: s.shape, final_loss: s.finalLosses, steps: s.steps };
  }

  constructor(config: Record<string, unknown>, protected readonly owner: string, defaultMode: CoefficientMode, private readonly runCtx: RunContext) {
    const ctx = runCtx;
    const p = new Params(config, owner);
    const name = p.optionalString('name');
    if (name !== null && !(name in MODES)) throw new UserError(`${owner}: option 'name' must be clip_task_wise_adamerging or clip_layer_wise_adamerging, got ${JSON.stringify(name)}`);
    this.mode = name !== null ? MODES[name]! : defaultMode;
    const w = config.weights;
    if (w === undefined || w === null || typeof w === 'string') this.weights = w ?? null;
    else if (Array.isArray(w) && w.length > 0 && w.every(Array.isArray)) {
      const rows = w.map((r, i) => new Params({ r }, `${owner}: weights[${i}]`).numberList('r'));
      if (rows.some((r) => r.length !== rows[0]!.length)) throw new UserError(`${owner}: option 'weights' has rows of different lengths`);
      this.weights = { data: rows.flat(), shape: [rows.length, rows[0]!.length] };
    } else {
      const flat = p.numberList('weights');
      this.weights = { data: flat, shape: [flat.length] };
    }
    p.oneOf('optimizer', ['adam'], 'adam');
    this.lr = p.number('lr', { dflt: 1e-3 });
    if (!(this.lr > 0)) throw new UserError(`${owner}: option 'lr' must be positive, got ${this.lr}`);
    const init = config.init_values;
    this.init_values = init === undefined || init === null ? null : p.number('init_values');
    this.clamp_weights = p.bool('clamp_weights', false);
    this.batch_size = p.number('batch_size', { dflt: 16, min: 1 });
    this.max_steps = p.number('max_steps', { dflt: 1000 });
    if (!Number.isInteger(this.max_steps) || this.max_steps < 1) throw new UserError(`${owner}: option 'max_steps' must be an integer ≥ 1, got ${this.max_steps}`);
    if (!Number.isInteger(this.batch_size)) throw new UserError(`${owner}: option 'batch_size' must be an integer, got ${this.batch_size}`);
    this.fast_dev_run = p.bool('fast_dev_run', ctx.fastDevRun);
    const save = config.save_merging_weights;
    this.save_merging_weights = save === undefined || save === null || save === false ? null : p.optionalString('save_merging_weights');
    this.seed = p.seed('seed', 0);
    // tie_weights / strict (functional_call arguments), devices, num_workers and cache_dir do not apply here.
  }

  /**
   * Where save_merging_weights goes, as fusion_bench decides it: the layer-wise algorithm puts a path
   * that starts with neither '/' nor '.' in the log dir (`merging_weights.pt` → <log_dir>/merging_weights.pt);
   * the task-wise one passes it to torch.save as given (relative to the working directory).
   */
  mergingWeightsPath(file: string): string {
    if (this.mode === 'layer_wise' && this.runCtx.logDir !== null && !file.startsWith('/') && !file.startsWith('.')) return join(this.runCtx.logDir, file);
    return file;
  }

  async run(input: PoolInput): Promise<Model> {
    const { pool, set, base, finetuned } = await loadTaskVectorSources(this.owner, input);
    try {
      const sd = base.model.stateDict;
      if (!base.model.config) throw new UserError(`${this.owner}: the pretrained model (${base.model.source}) has no config.json`);
      const cfg = clipVisionConfigFrom(base.model.config, `${base.model.source} config`);
      const keys = clipVisionParameterNames(cfg);
      const missing = keys.filter((k) => !sd.has(k));
      if (missing.length) throw new UserError(`${this.owner}: the pretrained model (${base.model.source}) is not a CLIPVisionModel: it lacks ${missing.slice(0, 3).join(', ')}`);
      const baseMap = new Map(keys.map((k) => [k, sd.loadF32(k)]));
      const tvs = finetuned.map((ft) => new Map(keys.map((k) => {
        const t = ft.model.stateDict.loadF32(k);
        subInPlace(t, baseMap.get(k)!);
        return [k, t];
      })));
      const coeffs = new MergeCoefficients(this.mode, keys, baseMap, tvs, this.clamp_weights);
      const w = this.weights !== null ? this.loadWeights(coeffs) : await this.train(pool, finetuned.map((f) => f.name), coeffs, cfg, sd);
      const out = mergedModel(this.owner, base, set, (name, into) => (baseMap.has(name) ? coeffs.mergeTensor(w, name, into) : sd.loadF32(name)));
      return out;
    } catch (e) {
      set.close();
      throw e;
    }
  }

  private loadWeights(coeffs: MergeCoefficients): Float32Array {
    const shape = coeffs.shape;
    const got = typeof this.weights === 'string' ? readTensorFile(this.weights, `${this.owner}: weights`) : { data: Float32Array.from(this.weights!.data), shape: this.weights!.shape };
    const same = got.shape.length === shape.length && got.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new UserError(`${this.owner}: weights${typeof this.weights === 'string' ? ` (${this.weights})` : ''} have shape [${got.shape.join(', ')}], expected [${shape.join(', ')}] (${coeffs.models} models${this.mode === 'layer_wise' ? ` × ${coeffs.perModel} parameter tensors` : ''})`);
    }
    this.summary = { mode: this.mode, shape, weights: Array.from(got.data), finalLosses: {}, steps: 0 };
    return got.data;
  }

  private async train(pool: Parameters<typeof ClipTaskData.open>[0], tasks: string[], coeffs: MergeCoefficients, cfg: ReturnType<typeof clipVisionConfigFrom>, sd: Model['stateDict']): Promise<Float32Array> {
    const ctx = await ClipTaskData.open(pool, this.owner, this.runCtx.cacheDir);
    let session: ClipVisionGradSession | null = null;
    try {
      const heads = await ctx.heads(tasks);
      const loaders: ShuffledBatches[] = [];
      for (const [i, t] of tasks.entries()) loaders.push(await ctx.batches('test_datasets', t, this.batch_size, this.seed + i));
      session = await ctx.gradSession(cfg, sd, 'entropy', Math.min(this.batch_size, Math.max(...loaders.map((l) => l.dataset.length))), heads);
      const steps = this.fast_dev_run ? 1 : this.max_steps;
      const every = Math.max(1, Math.floor(steps / 20));
      const result: AdaMergingResult = await this.runCtx.profiler.time('training (AdaMerging)', () => adaMerging(session!, coeffs, tasks.map((t, i) => ({
        name: t,
        head: heads.get(t)!.weights,
        nextBatch: async () => (await loaders[i]!.nextBatch()).pixels,
      })), {
        lr: this.lr,
        maxSteps: steps,
        init: coeffs.initial(this.init_values ?? undefined),
        onStep: (s) => {
          if (s.step === 1 || s.step === steps || s.step % every === 0) {
            this.runCtx.status?.write(`${this.owner} step ${s.step}/${steps}: entropy ${s.losses.map((l, i) => `${tasks[i]} ${l.toFixed(4)}`).join(', ')}; ${s.imagesPerSecond.toFixed(1)} images/s\n`);
          }
        },
      }));
      const last = result.losses[result.losses.length - 1] ?? [];
      this.summary = { mode: this.mode, shape: coeffs.shape, weights: Array.from(result.weights), finalLosses: Object.fromEntries(tasks.map((t, i) => [t, last[i]!])), steps: result.steps };
      if (this.save_merging_weights) {
        const path = this.mergingWeightsPath(this.save_merging_weights);
        ensureDir(dirname(path), `${this.owner}: the folder of save_merging_weights`);
        writeTensorFile(path, result.weights, coeffs.shape, `${this.owner}: save_merging_weights`);
      }
      return result.weights;
    } finally {
      await session?.dispose();
      ctx.close();
    }
  }
}

export class CLIPTaskWiseAdaMergingAlgorithm extends ClipAdaMerging {
  constructor(config: Record<string, unknown>, ctx: RunContext = runContext()) {
    super(config, 'CLIPTaskWiseAdaMergingAlgorithm', 'task_wise', ctx);
  }
}

export class CLIPLayerWiseAdaMergingAlgorithm extends ClipAdaMerging {
  constructor(config: Record<string, unknown>, ctx: RunContext = runContext()) {
    super(config, 'CLIPLayerWiseAdaMergingAlgorithm', 'layer_wise', ctx);
  }
}
