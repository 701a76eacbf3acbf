/**
 * fusion_bench's CLIPVisionModelTaskPool: zero-shot image classification of a CLIP vision tower on each
 * test data set. The heads come from the pretrained CLIPModel's text tower (cached on disk under
 * `path.cache_dir`); the evaluated tower's pooled output goes through the pretrained `visual_projection`
 * and `logit_scale`. One onnxruntime session per evaluated model, fed `batch_size` images at a time.
 *
 * onnxruntime-node runs a session synchronously on the main thread (its async `run` only defers to
 * setImmediate), so the next batch is decoded and preprocessed on a second thread meanwhile
 * (preprocess-thread.ts) when the evaluation is long enough to repay starting it (usePreprocessThread).
 */
import { UserError } from '../../errors.js';
import { loadImageClassificationDataset, type ImageClassificationDataset } from '../../data/index.js';
import { SubsetDataset, trainValidationSplit, type ImageRows } from '../../data/train-validation-split.js';
import { clipVisionConfigFrom, type ClipVisionConfig } from '../../models/clip/config.js';
import { CLIPImageProcessor } from '../../models/clip/image-processor.js';
import { ClipVisionSession, type ClipTextSession } from '../../models/clip/session.js';
import { CLIPTokenizer } from '../../models/clip/tokenizer.js';
import { isModel, type Model } from '../../modelpool/model.js';
import { snapshotRevision } from '../../hub/snapshot-revision.js';
import type { RunInfoSource, TaskPool } from '../types.js';
import { runContext, type RunContext } from '../../run-context.js';
import { getClassnamesAndTemplates } from '../../tasks/clip-classification/index.js';
import { createProgress } from '../../util/progress.js';
import { canPipeline, imageBatches, pipelinedImageBatches, type ImageCounts } from './batches.js';
import { preprocessThread, usePreprocessThread } from './preprocess-thread.js';
import { headKey, readCachedHead, writeCachedHead } from './head-cache.js';
import { sharedImageCache } from './image-cache.js';
import { diskCrops } from './disk-crops.js';
import { ClassificationMetrics, type TaskResult } from './metrics.js';
import { layerWiseFeatureNote, parseTaskPoolConfig, type CLIPVisionModelTaskPoolConfig, type TaskPoolOptions } from './options.js';
import { PretrainedClip, resolveClipDir, tokenizerIdentity } from './pretrained-clip.js';
import { buildReport, modelInfo, modelInfoSum, type TaskPoolReport } from './report.js';
import { computeZeroShotHead, zeroShotLogits, type ZeroShotHead } from './zero-shot-head.js';
import { EnsembleVisionSession } from './ensemble-session.js';
import { isEnsemble, isPerTaskModels } from '../../method/result.js';

const WHERE = 'taskpool (CLIPVisionModelTaskPool)';

/** Counters for what a run did (and for tests: a head-cache hit builds no text session). */
export interface TaskPoolStats {
  textSessionsBuilt: number;
  visionSessionsBuilt: number;
  headsComputed: number;
  headsFromDiskCache: number;
}

/** A task's data: the rows evaluated (a split's subset or the whole split) and what they came from. */
interface LoadedTask {
  rows: ImageRows;
  base: ImageClassificationDataset;
  /** Names the source data set for the in-memory crop cache (its load options and working folder). */
  key: string;
  /** Its load options (part of the on-disk crop cache's key). */
  spec: unknown;
}

/** What a run record says of one evaluated data set. */
export interface DatasetRunInfo {
  source: string;
  name: string | null;
  revision: string | null;
  split: string;
  rows: number;
  /** The `data_files` given to load_dataset (the files themselves, for the `parquet` builder). */
  data_files?: unknown;
  train_validation_split?: { return_split: string; validation_fraction: number | null; validation_size: number | null; random_seed: number | null };
}

export class CLIPVisionModelTaskPool implements TaskPool {
  readonly options: TaskPoolOptions;
  readonly stats: TaskPoolStats = { textSessionsBuilt: 0, visionSessionsBuilt: 0, headsComputed: 0, headsFromDiskCache: 0 };
  private readonly note: string | null;
  private noteShown = false;
  private clip: Promise<PretrainedClip> | null = null;
  private tokenizerDir: Promise<string> | null = null;
  private imageProcessor: Promise<CLIPImageProcessor> | null = null;
  private readonly heads = new Map<string, ZeroShotHead>();
  private readonly datasets = new Map<string, Promise<LoadedTask>>();
  /** Images decoded versus taken from the in-memory crop cache (src/taskpool/clip-vision/image-cache.ts). */
  readonly images: ImageCounts = { decoded: 0, fromMemory: 0 };
  /** Heads taken from the sweep cache rather than computed or read from disk. */
  headsFromMemory = 0;
  /** Crops put in the sweep's store from the on-disk cache (src/taskpool/clip-vision/disk-crops.ts). */
  cropsFromDisk = 0;
  /** Task evaluations whose images were preprocessed on the preprocessing thread. */
  pipelinedTasks = 0;
  private ctx: RunContext;

  constructor(config: CLIPVisionModelTaskPoolConfig, ctx: RunContext = runContext()) {
    this.options = parseTaskPoolConfig(config);
    this.note = layerWiseFeatureNote(config);
    this.ctx = ctx;
  }

  /**
   * The context of the job that uses this pool next: a sweep's jobs share one instance (its datasets,
   * heads and pretrained checkpoint), and each job's status lines and profile are its own.
   */
  attach(ctx: RunContext): void {
    this.ctx = ctx;
  }

  /** The task names, in config order. */
  get taskNames(): string[] {
    return this.options.tasks.map((t) => t.name);
  }

  get fastDevRun(): boolean {
    return this.options.fastDevRun ?? this.ctx.fastDevRun;
  }

  /**
   * Evaluates a CLIP vision model (`{stateDict, config, source}`) on every task; `name` goes into
   * model_info. Per-task models: each task with its own model; an ensemble: its members' outputs combined.
   */
  async evaluate(result: unknown, name?: string): Promise<TaskPoolReport> {
    const perTask = isPerTaskModels(result) ? result : null;
    const ensemble = isEnsemble(result) ? result : null;
    const modelFor = (task: string): unknown => (perTask ? perTask.model(task) : ensemble ? ensemble.members[0]?.model : result);
    const model = modelFor(this.options.tasks[0]?.name ?? '');
    if (!isModel(model)) throw new UserError(`${WHERE}: can only evaluate a CLIP vision model (a state dict with vision_model.* tensors), got ${describe(result)}`);
    if (this.note && !this.noteShown) {
      this.ctx.status?.write(this.note);
      this.noteShown = true;
    }
    const clip = await this.pretrained();
    const vision = this.visionConfigOf(model, clip);
    const projection = clip.visualProjection();
    if (projection.shape.length !== 2 || projection.shape[1] !== vision.hiddenSize) {
      throw new UserError(`${WHERE}: the pretrained visual_projection is [${projection.shape.join(', ')}], but the evaluated model (${model.source}) has hidden_size ${vision.hiddenSize}; is clip_model the base of this model?`);
    }
    const logitScale = clip.logitScale();
    await this.ctx.profiler.time('zero-shot heads', () => this.ensureHeads());
    const processor = await this.processor();

    const results: [string, TaskResult][] = [];
    const build = (m: Model, withProjection = true) => this.ctx.profiler.time('build vision session', async () => {
      const s = await ClipVisionSession.create(this.visionConfigOf(m, clip), m.stateDict, { projection: withProjection ? projection.data : undefined, source: m.source, profiler: this.ctx.profiler, ...(this.ctx.cacheDir ? { weightsDir: this.ctx.cacheDir } : {}) });
      this.stats.visionSessionsBuilt++;
      return s;
    });
    const open = async (task: string): Promise<ClipVisionSession | EnsembleVisionSession> => {
      if (ensemble === null) return build(modelFor(task) as Model);
      const members: ClipVisionSession[] = [];
      for (const m of ensemble.members) members.push(await build(m.model, false));
      return new EnsembleVisionSession(members, ensemble.combine, ensemble.weights, projection.data);
    };
    let session = perTask ? null : await open('');
    try {
      for (const task of this.options.tasks) {
        const r = await this.ctx.profiler.time(`evaluate ${task.name}`, async () => {
          const ds = await this.dataset(task.name);
          const s = session ?? (await open(task.name));
          try {
            return await this.evaluateTask(task.name, ds, s, processor, this.heads.get(task.name)!, logitScale);
          } finally {
            if (perTask) await s.dispose();
          }
        });
        results.push([task.name, r]);
      }
    } finally {
      await session?.dispose();
      session = null;
    }
    // an ensemble module's parameters are all its members' (fusion_bench counts the ModuleList)
    const info = ensemble ? modelInfoSum(ensemble.members.map((m) => modelInfo(m.model.stateDict)), name) : modelInfo(model.stateDict, name);
    return buildReport(info, results);
  }

  /** The zero-shot head of a task (from memory, the disk cache, or the text tower). */
  async zeroShotHead(task: string): Promise<ZeroShotHead> {
    await this.ensureHeads([task]);
    return this.heads.get(task)!;
  }

  /** Releases the pretrained checkpoint's file handles. */
  async close(): Promise<void> {
    if (this.clip) (await this.clip).close();
    this.clip = null;
  }

  private async evaluateTask(
    task: string,
    loaded: LoadedTask,
    session: Pick<ClipVisionSession, 'run' | 'config'>,
    processor: CLIPImageProcessor,
    head: ZeroShotHead,
    logitScale: number,
  ): Promise<TaskResult> {
    const ds = loaded.rows;
    const bs = this.options.batchSize;
    const whole = this.options.dropLast ? ds.length - (ds.length % bs) : ds.length;
    const end = this.fastDevRun ? Math.min(bs, whole) : whole;
    // Crops are kept inside a sweep, or once the same images are evaluated a second time in this process.
    const cacheKey = `clip-images:${loaded.key}\0${JSON.stringify(processor.config)}`;
    const sweepCache = this.ctx.sweepCache;
    const cache = sweepCache !== null ? { store: sharedImageCache(sweepCache), key: cacheKey } : null;
    const disk = cache !== null && this.ctx.cacheDir !== null
      ? diskCrops({ cacheDir: this.ctx.cacheDir, files: datasetFiles(loaded.base), dataset: loaded.spec, processor: processor.config, rows: ds, end, store: cache.store, storeKey: cache.key })
      : null;
    this.cropsFromDisk += disk?.loaded ?? 0;
    const metrics = new ClassificationMetrics(head.numClasses, ds.name);
    const size = session.config.imageSize;
    const bar = createProgress({ label: `Evaluating ${task}`, total: end, unit: 'images', stream: this.ctx.status ?? undefined, quiet: this.ctx.status === null });
    try {
      const batchOpts = { batchSize: bs, end, cache, counts: this.images };
      const thread = canPipeline(ds, processor) && usePreprocessThread(end, bs) ? preprocessThread() : null;
      if (thread) this.pipelinedTasks++;
      const batches = thread ? pipelinedImageBatches(ds, processor, batchOpts, thread) : imageBatches(ds, processor, batchOpts);
      for await (const b of batches) {
        if (b.dims[1] !== session.config.numChannels || b.dims[2] !== size || b.dims[3] !== size) {
          throw new UserError(`${WHERE}: ${ds.name} preprocesses to ${b.dims[2]}x${b.dims[3]} images, but the vision model takes ${size}x${size}; check data_processor (its crop_size) against the model's image_size`);
        }
        const out = await session.run(b.pixelValues, b.count);
        if (out.embeds!.length !== b.count * head.dim) {
          throw new UserError(`${WHERE}: image embeddings have ${out.embeds!.length / b.count} values, the zero-shot head ${head.dim}; the text and visual projections of clip_model disagree`);
        }
        metrics.update(zeroShotLogits(out.embeds!, head, logitScale), b.labels, b.start);
        bar.add(b.count);
      }
    } finally {
      bar.finish();
    }
    disk?.save();
    return metrics.result();
  }

  private visionConfigOf(model: Model, clip: PretrainedClip): ClipVisionConfig {
    if (!model.stateDict.has('vision_model.embeddings.patch_embedding.weight')) {
      throw new UserError(`${WHERE}: the model to evaluate (${model.source}) has no vision_model.* tensors; expected a CLIPVisionModel`);
    }
    return model.config ? clipVisionConfigFrom(model.config, `${model.source} config`) : clip.config.vision!;
  }

  /** Heads for the given tasks (default all); a text session is built only when one is missing. */
  private async ensureHeads(tasks: readonly string[] = this.taskNames): Promise<void> {
    const missing = tasks.filter((t) => !this.heads.has(t));
    if (missing.length === 0) return;
    const clip = await this.pretrained();
    const tokDir = await this.tokenizerDirectory();
    const cacheDir = this.ctx.cacheDir;
    const sweepCache = this.ctx.sweepCache;
    // During a sweep, heads also live in the sweep cache, shared by task pools of other configs (e.g. the
    // validation and the test pool) on the same CLIP model; they are keyed like the disk cache.
    const tokId = cacheDir === null ? '' : tokenizerIdentity(tokDir);
    let text: ClipTextSession | null = null;
    let tokenizer: CLIPTokenizer | null = null;
    try {
      for (const task of missing) {
        const data = await getClassnamesAndTemplates(task);
        const key = cacheDir === null
          ? null
          : headKey({ model: clip.identity(), tokenizer: tokId, textConfig: clip.textConfig, task, classnames: data.classnames, templates: data.templates });
        const memoKey = key && sweepCache !== null ? `clip-head:${key.hash}` : null;
        const inMemory = memoKey ? (sweepCache!.get(memoKey) as ZeroShotHead | undefined) : undefined;
        if (inMemory && inMemory.numClasses === data.classnames.length) {
          this.heads.set(task, inMemory);
          this.headsFromMemory++;
          continue;
        }
        const cached = key && cacheDir !== null ? readCachedHead(cacheDir, key) : null;
        if (cached && cached.numClasses === data.classnames.length) {
          this.heads.set(task, cached);
          this.stats.headsFromDiskCache++;
          if (memoKey) sweepCache!.set(memoKey, cached);
          continue;
        }
        if (text === null) {
          tokenizer = CLIPTokenizer.fromDir(tokDir);
          text = await clip.textSession();
          this.stats.textSessionsBuilt++;
        }
        const head = await computeZeroShotHead(text, tokenizer!, data);
        this.stats.headsComputed++;
        this.heads.set(task, head);
        if (memoKey) sweepCache!.set(memoKey, head);
        if (key && cacheDir !== null) writeCachedHead(cacheDir, key, head);
      }
    } finally {
      if (text) await text.dispose();
    }
  }

  private pretrained(): Promise<PretrainedClip> {
    this.clip ??= PretrainedClip.open(this.options.clipModel, `${WHERE}.clip_model`);
    return this.clip;
  }

  private tokenizerDirectory(): Promise<string> {
    this.tokenizerDir ??= resolveClipDir(this.options.processor);
    return this.tokenizerDir;
  }

  private processor(): Promise<CLIPImageProcessor> {
    this.imageProcessor ??= resolveClipDir(this.options.dataProcessor).then((dir) => CLIPImageProcessor.fromDir(dir));
    return this.imageProcessor;
  }

  inputPaths(): { what: string; path: string }[] {
    const o = this.options;
    const out = [
      { what: 'taskpool.clip_model', path: o.clipModel },
      { what: 'taskpool.processor', path: o.processor },
      { what: 'taskpool.data_processor', path: o.dataProcessor },
    ];
    for (const t of o.tasks) {
      out.push({ what: `taskpool data set '${t.name}'`, path: t.dataset.path });
      const files = t.dataset.data_files;
      const list = typeof files === 'string' ? [files] : Array.isArray(files) ? files : files && typeof files === 'object' ? Object.values(files).flat() : [];
      for (const f of list) if (typeof f === 'string') out.push({ what: `taskpool data file of '${t.name}'`, path: f });
    }
    return out;
  }

  /** What a run record needs of the CLIP model and the data sets evaluated so far. */
  async runInfo(): Promise<{ models: Record<string, RunInfoSource>; datasets: Record<string, DatasetRunInfo> }> {
    const models: Record<string, RunInfoSource> = {};
    if (this.clip) {
      const clip = await this.clip;
      models['taskpool.clip_model'] = { source: this.options.clipModel, revision: snapshotRevision(clip.dir) };
    }
    const datasets: Record<string, DatasetRunInfo> = {};
    for (const t of this.options.tasks) {
      const p = this.datasets.get(t.name);
      if (!p) continue;
      let loaded: LoadedTask;
      try {
        loaded = await p;
      } catch {
        continue;
      }
      const files = datasetFiles(loaded.base);
      const info: DatasetRunInfo = {
        source: t.dataset.path,
        name: t.dataset.name ?? null,
        revision: files.length > 0 ? snapshotRevision(files[0]!) : null,
        split: t.dataset.split,
        rows: loaded.rows.length,
      };
      if (t.dataset.data_files !== undefined) info.data_files = t.dataset.data_files;
      if (t.split) {
        const seed = loaded.rows instanceof SubsetDataset ? loaded.rows.seed : t.split.random_seed;
        info.train_validation_split = { return_split: t.split.return_split, validation_fraction: t.split.validation_fraction, validation_size: t.split.validation_size, random_seed: seed };
      }
      datasets[t.name] = info;
    }
    return { models, datasets };
  }

  private dataset(task: string): Promise<LoadedTask> {
    let p = this.datasets.get(task);
    if (!p) {
      const spec = this.options.tasks.find((t) => t.name === task)!;
      const where = `${WHERE}.test_datasets.${task}`;
      p = loadImageClassificationDataset(spec.dataset).then((base) => ({
        base,
        rows: spec.split ? (trainValidationSplit(base, spec.split, where, this.ctx.seed) as SubsetDataset<ImageClassificationDataset>) : base,
        key: `${JSON.stringify(spec.dataset)}\0${process.cwd()}`,
        spec: spec.dataset,
      }));
      // A failed load is retried next time rather than remembered.
      p.catch(() => this.datasets.delete(task));
      this.datasets.set(task, p);
    }
    return p;
  }
}

/**
 * The parquet files a data set reads. ImageClassificationDataset keeps them private; read through its
 * shards' paths when present (only for the run record: an empty list gives a null revision).
 */
function datasetFiles(ds: ImageClassificationDataset): string[] {
  const shards = (ds as unknown as { shards?: unknown }).shards;
  if (!Array.isArray(shards)) return [];
  return shards.map((s) => (s as { path?: unknown }).path).filter((p): p is string => typeof p === 'string');
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).slice(0, 5).join(', ') || '(none)'}`;
  return typeof v;
}
