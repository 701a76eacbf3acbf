/**
 * fusion_bench's FisherMergingForCLIPVisionModel: the diagonal Fisher of each fine-tuned vision tower on
 * `num_fisher_examples` images of its task's `modelpool.train_datasets` (zero-shot head of that task,
 * shuffled batches of `dataloader_kwargs.batch_size`), then the Fisher-weighted average of the models for
 * every parameter not matched (`re.match`, anchored at the start) by `exclude_param_names_regex`;
 * excluded parameters keep the pretrained values. The gradients come from the tower's ONNX graph.
 */
import { dataloaderBatchSize, excludeMatchers } from '../data-method-options.js';
import { runContext, type RunContext } from '../../run-context.js';
import { UserError } from '../../errors.js';
import type { ClipVisionGradSession } from '../../grad/clip-vision-grad.js';
import { diagonalFisher, fisherMergeTensor, fisherModelCoefficients } from '../../grad/fisher.js';
import { clipVisionConfigFrom } from '../../models/clip/config.js';
import { clipVisionParameterNames } from '../../models/clip/parameters.js';
import type { Model } from '../../modelpool/model.js';
import type { ParamDef } from '../param-def.js';
import { Params } from '../params.js';
import { loadTaskVectorSources, mergedModel, type PoolInput } from '../sources.js';
import { ClipTaskData } from './clip-tasks.js';

const NAME = 'FisherMergingForCLIPVisionModel';
const PARAMS: readonly ParamDef[] = [
  { name: 'exclude_param_names_regex', type: 'str[]', default: [], doc: 'regular expressions (matched at the start) of parameters kept at the pretrained values' },
  { name: 'normalize_fisher_weight', type: 'bool', default: true, doc: 'divide each model\'s weight by the L2 norm of its Fisher' },
  { name: 'minimal_fisher_weight', type: 'float', default: 1e-6, min: 0, doc: 'added to every Fisher value' },
  { name: 'num_fisher_examples', type: 'int', default: 256, min: 1, doc: 'train images per model for its Fisher' },
  { name: 'dataloader_kwargs', type: 'any', default: { batch_size: 32 }, doc: 'batch_size is used; num_workers is accepted' },
  { name: 'zeroshot_weights_cache_dir', type: 'str', default: null, doc: 'accepted, no effect' },
  { name: 'seed', type: 'int', default: 0, doc: 'seed of the train-batch shuffling' },
];

export class FisherMergingForCLIPVisionModel {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'Fisher merging: parameters averaged with diagonal Fisher weights';
  readonly exclude_param_names_regex: string[];
  readonly normalize_fisher_weight: boolean;
  readonly minimal_fisher_weight: number;
  readonly num_fisher_examples: number;
  readonly batch_size: number;
  readonly seed: number;
  private readonly excluders: RegExp[];
  /** Examples used per model, set by run(). */
  examples: Record<string, number> = {};

  /** What the report says of the run beside the accuracies: the examples each model's Fisher used. */
  reportExtras(): Record<string, unknown> | null {
    return Object.keys(this.examples).length === 0 ? null : { fisher_examples: { ...this.examples } };
  }

  constructor(config: Record<string, unknown>, private readonly runCtx: RunContext = runContext()) {
    const p = new Params(config, NAME);
    this.exclude_param_names_regex = p.stringList('exclude_param_names_regex');
    this.excluders = excludeMatchers(NAME, this.exclude_param_names_regex);
    this.normalize_fisher_weight = p.bool('normalize_fisher_weight', true);
    this.minimal_fisher_weight = p.number('minimal_fisher_weight', { dflt: 1e-6, min: 0 });
    this.num_fisher_examples = p.number('num_fisher_examples', { dflt: 256, min: 1 });
    if (!Number.isInteger(this.num_fisher_examples)) throw new UserError(`${NAME}: option 'num_fisher_examples' must be an integer, got ${this.num_fisher_examples}`);
    this.batch_size = dataloaderBatchSize(NAME, config.dataloader_kwargs ?? {});
    this.seed = p.seed('seed', 0);
  }

  async run(input: PoolInput): Promise<Model> {
    const { pool, set, base, finetuned } = await loadTaskVectorSources(NAME, input);
    let ctx: ClipTaskData | null = null;
    let session: ClipVisionGradSession | null = null;
    try {
      if (!base.model.config) throw new UserError(`${NAME}: the pretrained model (${base.model.source}) has no config.json`);
      const cfg = clipVisionConfigFrom(base.model.config, `${base.model.source} config`);
      const all = clipVisionParameterNames(cfg);
      const missing = all.filter((k) => !base.model.stateDict.has(k));
      if (missing.length) throw new UserError(`${NAME}: the pretrained model (${base.model.source}) is not a CLIPVisionModel: it lacks ${missing.slice(0, 3).join(', ')}`);
      const keys = all.filter((k) => !this.excluders.some((r) => r.test(k)));
      const tasks = finetuned.map((m) => m.name);
      ctx = await ClipTaskData.open(pool, NAME, this.runCtx.cacheDir);
      const heads = await ctx.heads(tasks);
      session = await ctx.gradSession(cfg, base.model.stateDict, 'fisher', Math.min(this.batch_size, this.num_fisher_examples), heads, (k) => keys.includes(k));
      // Every task's train set is opened (and checked) before the first Fisher is computed.
      const loaders = [];
      for (const [i, ft] of finetuned.entries()) loaders.push(await ctx.batches('train_datasets', ft.name, session.batch, this.seed + i));
      const params: Map<string, Float32Array>[] = [];
      const fishers: Map<string, Float32Array>[] = [];
      for (const [i, ft] of finetuned.entries()) {
        const weights = new Map(all.map((k) => [k, ft.model.stateDict.loadF32(k)]));
        const loader = loaders[i]!;
        let used = 0;
        const batches = {
          next: async () => {
            if (used >= loader.dataset.length) return null;
            const b = await loader.nextBatch();
            used += b.labels.length;
            return b.pixels;
          },
        };
        const started = performance.now();
        const r = await diagonalFisher(session, (k) => weights.get(k)!, heads.get(ft.name)!.weights, batches, this.num_fisher_examples);
        this.runCtx.profiler.record('Fisher information', (performance.now() - started) / 1000);
        this.runCtx.status?.write(`${NAME}: Fisher of '${ft.name}' from ${r.examples} examples, ${(r.examples / ((performance.now() - started) / 1000)).toFixed(1)} images/s\n`);
        this.examples[ft.name] = r.examples;
        params.push(weights);
        fishers.push(r.fisher);
      }
      const coefficients = fisherModelCoefficients(fishers, keys, { normalize: this.normalize_fisher_weight, minimal: this.minimal_fisher_weight });
      const merged = new Set(keys);
      const sd = base.model.stateDict;
      return mergedModel(NAME, base, set, (name, into) => (merged.has(name)
        ? fisherMergeTensor(params.map((p) => p.get(name)!), fishers.map((F) => F.get(name)!), coefficients, this.minimal_fisher_weight, into)
        : sd.loadF32(name)));
    } catch (e) {
      set.close();
      throw e;
    } finally {
      await session?.dispose();
      ctx?.close();
    }
  }
}
