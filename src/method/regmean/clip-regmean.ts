/**
 * fusion_bench's RegMeanAlgorithmForCLIP (Jin et al., "Dataless Knowledge Fusion by Merging Weights of
 * Language Models", ICLR 2023). For each fine-tuned vision tower, its task's `modelpool.train_datasets`
 * in shuffled batches of `dataloader_kwargs.batch_size` until `num_regmean_examples` images are reached
 * (whole batches, checked before each batch, one pass at most — fusion_bench's loop), giving the mean
 * input Gram matrix Gᵢ = Σ xᵀx / rows of every nn.Linear (q/k/v/out_proj, fc1, fc2 of every layer; token
 * rows of all images); then per linear weight W = (Σ R(Gᵢ))⁻¹ Σ R(Gᵢ)·Wᵢᵀ (transposed back) with R
 * scaling off-diagonal entries by `reduce_non_diagonal_ratio`; every other tensor is the plain mean of the
 * fine-tuned ones; tensors matched by `exclude_param_names_regex` (re.match: anchored at the start) keep
 * the pretrained values (fusion_bench loads the merged dict into `_pretrained_` with strict=False).
 *
 * The shuffling is seeded by the run's `seed` (fusion_bench's DataLoader(shuffle=True) draws from torch's
 * global generator after seed_everything; its order cannot be reproduced): with num_regmean_examples at
 * or above a train set's size every image is used and the order does not matter. (Below it the subset
 * differs; fusion_bench's own subset is not reproducible either under its default `seed: null`.)
 *
 * Where we deliberately differ from fusion_bench's arithmetic (bench/compare --only regmean and
 * test/method/regmean-fusion-bench.test.ts measure it against its own code on torch 1.13): its hook keeps
 * a running float32 mean, (G·n + xᵀx)/(n + m) per batch, and computes q/k/v_proj's identical Gram matrix
 * three times; we sum xᵀx in float32 and divide by the token rows once, one Gram matrix per distinct
 * input (Gram matrices equal to ≤ 1.2e-6 of their largest entry). It sums the models' R(Gᵢ), R(Gᵢ)·Wᵢᵀ
 * in float32 and solves with torch.inverse (float32 LU) then a matmul; we sum in float64 and solve by
 * float64 Cholesky (regmean-merge.ts). Merged linear weights then differ from fusion_bench's by its own
 * float32 error: on the demo towers 2.2e-4 of the largest entry, a few cond(Σ R(Gᵢ))·2⁻²⁴, the same as its
 * distance from its formula evaluated in float64 on its Gram matrices; ours is within 8e-7 of that
 * formula on our Gram matrices and 1.6e-5 on its (the Gram matrices' rounding, amplified by the
 * conditioning). Averaged tensors are bit-equal.
 */
import { dataloaderBatchSize, excludeMatchers } from '../data-method-options.js';
import { UserError } from '../../errors.js';
import { clipVisionConfigFrom } from '../../models/clip/config.js';
import { clipVisionParameterNames } from '../../models/clip/parameters.js';
import type { Model } from '../../modelpool/model.js';
import { runContext, type RunContext } from '../../run-context.js';
import { torchColumnSum } from '../f32.js';
import { ClipTaskData, type ShuffledBatches } from '../gradient/clip-tasks.js';
import { readParams, type ParamDef } from '../param-def.js';
import { loadTaskVectorSources, mergedModel, type PoolInput } from '../sources.js';
import { ClipGramSession } from './gram-session.js';
import { OrtGemm } from './ort-gemm.js';
import { RegMeanSums, type RegMeanModule } from './regmean-merge.js';

const NAME = 'RegMeanAlgorithmForCLIP';

const PARAMS: readonly ParamDef[] = [
  { name: 'exclude_param_names_regex', type: 'str[]', default: [], doc: 'regular expressions (matched at the start) of parameters kept at the pretrained values' },
  { name: 'num_regmean_examples', type: 'int', default: 256, min: 1, doc: 'train images per model for its Gram matrices (whole batches)' },
  { name: 'weight_transpose', type: 'bool', default: true, doc: 'nn.Linear weights are [out, in]: solve for Wᵀ and transpose back' },
  { name: 'reduce_non_diagonal_ratio', type: 'float', default: 0.95, min: 0, max: 1, doc: 'factor on the off-diagonal entries of each Gram matrix (1: plain RegMean)' },
  { name: 'dataloader_kwargs', type: 'any', default: { batch_size: 32, num_workers: 0 }, doc: 'batch_size is used; num_workers and the rest are accepted' },
];

/** torch.stack(tensors).mean(dim=0) in float32 (CPU: the column sum, then ÷ n). */
function stackMean(tensors: readonly Float32Array[], out?: Float32Array): Float32Array {
  const n = tensors.length;
  const res = out && out.length >= tensors[0]!.length ? out.subarray(0, tensors[0]!.length) : new Float32Array(tensors[0]!.length);
  const vals = new Float32Array(n);
  for (let j = 0; j < res.length; j++) {
    for (let i = 0; i < n; i++) vals[i] = tensors[i]![j]!;
    res[j] = torchColumnSum(vals, n) / n;
  }
  return res;
}

export class RegMeanAlgorithmForCLIP {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'RegMean: per linear layer, the weights that best fit every model on its own train inputs (closed form)';
  readonly exclude_param_names_regex: string[];
  readonly num_regmean_examples: number;
  readonly weight_transpose: boolean;
  readonly reduce_non_diagonal_ratio: number;
  readonly batch_size: number;
  private readonly excluders: RegExp[];
  /** Images each model's Gram matrices used, set by run(). */
  examples: Record<string, number> = {};
  /**
   * Called with each model's mean Gram matrices (module → f32(Σ xᵀx / token rows), [in, in]) before the
   * merge consumes them: what fusion_bench's hooks store per module. For comparisons against its code.
   */
  onMeanGrams: ((model: string, grams: ReadonlyMap<string, Float32Array>) => void) | null = null;

  constructor(config: Record<string, unknown> = {}, private readonly runCtx: RunContext = runContext()) {
    const v = readParams(NAME, PARAMS, config, runCtx);
    this.exclude_param_names_regex = v.exclude_param_names_regex as string[];
    this.excluders = excludeMatchers(NAME, this.exclude_param_names_regex);
    this.num_regmean_examples = v.num_regmean_examples as number;
    this.weight_transpose = v.weight_transpose as boolean;
    this.reduce_non_diagonal_ratio = v.reduce_non_diagonal_ratio as number;
    this.batch_size = dataloaderBatchSize(NAME, v.dataloader_kwargs);
  }

  /** What the report says of the run beside the accuracies: the images each model's Gram matrices used. */
  reportExtras(): Record<string, unknown> | null {
    return Object.keys(this.examples).length === 0 ? null : { regmean_examples: { ...this.examples } };
  }

  /**
   * Σ xᵀx of every Gram output into `acc` over whole batches, stopping (as fusion_bench's loop, checked
   * before each batch) once num_regmean_examples images were seen or the data set is done; the images used.
   */
  private async accumulate(session: ClipGramSession, loader: ShuffledBatches, acc: Float32Array[]): Promise<number> {
    let used = 0;
    const out = session.grams.map((g) => new Float32Array(g.dim * g.dim));
    while (used < this.num_regmean_examples && used < loader.dataset.length) {
      const b = await loader.nextBatch();
      const grams = await session.run(b.pixels, b.labels.length, out);
      for (const [u, g] of grams.entries()) {
        const a = acc[u]!;
        for (let k = 0; k < a.length; k++) a[k] = a[k]! + g[k]!;
      }
      used += b.labels.length;
    }
    return used;
  }

  async run(input: PoolInput): Promise<Model> {
    const { pool, set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    let ctx: ClipTaskData | null = null;
    let gemm: OrtGemm | null = null;
    try {
      if (!base.model.config) throw new UserError(`${NAME}: the pretrained model (${base.model.source}) has no config.json`);
      const cfg = clipVisionConfigFrom(base.model.config, `${base.model.source} config`);
      const missing = clipVisionParameterNames(cfg).filter((k) => !base.model.stateDict.has(k));
      if (missing.length) throw new UserError(`${NAME}: the pretrained model (${base.model.source}) is not a CLIPVisionModel: it lacks ${missing.slice(0, 3).join(', ')}`);
      const sd = base.model.stateDict;
      const kept = new Set(sd.names().filter((k) => !this.excluders.some((r) => r.test(k))));
      ctx = await ClipTaskData.open(pool, NAME);
      // Every task's train set is opened (and checked) before the first forward pass.
      const loaders: ShuffledBatches[] = [];
      const seed = this.runCtx.seed ?? 0;
      for (const [i, ft] of finetuned.entries()) loaders.push(await ctx.batches('train_datasets', ft.name, this.batch_size, seed + i));
      gemm = await OrtGemm.create();
      const rowGemm = gemm.rowGemm;
      let sums: RegMeanSums | null = null;
      let acc: Float32Array[] = [];
      for (const [i, ft] of finetuned.entries()) {
        const started = performance.now();
        const session = await ClipGramSession.create(cfg, ft.model.stateDict, { source: `${NAME}: model '${ft.name}' (${ft.model.source})` });
        let used = 0;
        try {
          if (!sums) {
            const modules: RegMeanModule[] = [];
            for (const [u, g] of session.grams.entries()) {
              for (const module of g.modules) {
                const key = `${module}.weight`;
                if (!kept.has(key)) continue;
                const shape = sd.info(key).shape;
                modules.push({ module, key, shape: [shape[0]!, shape[1]!], gram: u });
              }
            }
            sums = new RegMeanSums(NAME, session.grams.map((g) => g.dim), modules, this.reduce_non_diagonal_ratio, this.weight_transpose);
            acc = session.grams.map((g) => new Float32Array(g.dim * g.dim));
          } else {
            for (const a of acc) a.fill(0);
          }
          used = await this.accumulate(session, loaders[i]!, acc);
        } finally {
          await session.dispose();
        }
        const secs = (performance.now() - started) / 1000;
        this.runCtx.profiler.record('computing regmean weights', secs);
        this.runCtx.status?.write(`${NAME}: Gram matrices of '${ft.name}' from ${used} examples, ${(used / secs).toFixed(1)} images/s\n`);
        this.examples[ft.name] = used;
        if (this.onMeanGrams) {
          const rows = used * session.tokens;
          const means = new Map<string, Float32Array>();
          for (const [u, g] of session.grams.entries()) {
            const mean = Float32Array.from(acc[u]!, (v) => v / rows);
            for (const module of g.modules) means.set(module, mean);
          }
          this.onMeanGrams(ft.name, means);
        }
        const t0 = performance.now();
        await sums!.add(acc, used * session.tokens, (k) => ft.model.stateDict.loadF32(k), rowGemm);
        this.runCtx.profiler.record('merging models', (performance.now() - t0) / 1000);
      }
      acc = [];
      const t0 = performance.now();
      const solved = await sums!.solve({ gemm: rowGemm });
      this.runCtx.profiler.record('merging models', (performance.now() - t0) / 1000);
      return mergedModel(NAME, base, set, (name, into) => {
        const w = solved.get(name);
        if (w) {
          if (!into || into.length < w.length) return w.slice();
          into.set(w);
          return into.subarray(0, w.length);
        }
        return kept.has(name) ? stackMean(finetuned.map((f) => f.model.stateDict.loadF32(name)), into) : sd.loadF32(name);
      });
    } catch (e) {
      set.close();
      throw e;
    } finally {
      await gemm?.dispose();
      ctx?.close();
    }
  }
}
