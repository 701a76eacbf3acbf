/**
 * fusion_bench's CLIPVisionModelTaskPool: zero-shot image classification of a CLIP vision tower on each
 * test data set. The heads come from the pretrained CLIPModel's text tower (cached on disk under
 * `path.cache_dir`); the evaluated tower's pooled output goes through the pretrained `visual_projection`
 * and `logit_scale`. One onnxruntime session per evaluated model, fed `batch_size` images at a time.
 *
 * Preprocessing is not overlapped with inference: onnxruntime-node runs a session synchronously on the
 * main thread (its async `run` only defers to setImmediate), so an in-thread prefetch would gain nothing;
 * overlapping needs a worker thread for decoding and resizing.
 */
import { UserError } from '../../errors.js';
import { loadImageClassificationDataset, preprocessedBatches, type ImageClassificationDataset } from '../../data/index.js';
import { clipVisionConfigFrom, type ClipVisionConfig } from '../../models/clip/config.js';
import { CLIPImageProcessor } from '../../models/clip/image-processor.js';
import { ClipVisionSession, type ClipTextSession } from '../../models/clip/session.js';
import { CLIPTokenizer } from '../../models/clip/tokenizer.js';
import { isModel, type Model } from '../../modelpool/model.js';
import type { TaskPoolLike } from '../../program/fusion-program.js';
import { runtime } from '../../program/runtime.js';
import { getClassnamesAndTemplates } from '../../tasks/clip-classification/index.js';
import { createProgress } from '../../util/progress.js';
import { headKey, readCachedHead, writeCachedHead } from './head-cache.js';
import { ClassificationMetrics, type TaskResult } from './metrics.js';
import { layerWiseFeatureNote, parseTaskPoolConfig, type CLIPVisionModelTaskPoolConfig, type TaskPoolOptions } from './options.js';
import { PretrainedClip, resolveClipDir, tokenizerIdentity } from './pretrained-clip.js';
import { buildReport, modelInfo, type TaskPoolReport } from './report.js';
import { computeZeroShotHead, zeroShotLogits, type ZeroShotHead } from './zero-shot-head.js';

const WHERE = 'taskpool (CLIPVisionModelTaskPool)';

/** Counters for what a run did (and for tests: a head-cache hit builds no text session). */
export interface TaskPoolStats {
  textSessionsBuilt: number;
  visionSessionsBuilt: number;
  headsComputed: number;
  headsFromDiskCache: number;
}

export class CLIPVisionModelTaskPool implements TaskPoolLike {
  readonly options: TaskPoolOptions;
  readonly stats: TaskPoolStats = { textSessionsBuilt: 0, visionSessionsBuilt: 0, headsComputed: 0, headsFromDiskCache: 0 };
  private readonly note: string | null;
  private noteShown = false;
  private clip: Promise<PretrainedClip> | null = null;
  private tokenizerDir: Promise<string> | null = null;
  private imageProcessor: Promise<CLIPImageProcessor> | null = null;
  private readonly heads = new Map<string, ZeroShotHead>();
  private readonly datasets = new Map<string, Promise<ImageClassificationDataset>>();

  constructor(config: CLIPVisionModelTaskPoolConfig) {
    this.options = parseTaskPoolConfig(config);
    this.note = layerWiseFeatureNote(config);
  }

  /** The task names, in config order. */
  get taskNames(): string[] {
    return this.options.tasks.map((t) => t.name);
  }

  get fastDevRun(): boolean {
    return this.options.fastDevRun ?? runtime.debug;
  }

  /** Evaluates a CLIP vision model (`{stateDict, config, source}`) on every task; `name` goes into model_info. */
  async evaluate(model: unknown, name?: string): Promise<TaskPoolReport> {
    if (!isModel(model)) throw new UserError(`${WHERE}: can only evaluate a CLIP vision model (a state dict with vision_model.* tensors), got ${describe(model)}`);
    if (this.note && !this.noteShown) {
      runtime.progress?.write(this.note);
      this.noteShown = true;
    }
    const clip = await this.pretrained();
    const vision = this.visionConfigOf(model, clip);
    const projection = clip.visualProjection();
    if (projection.shape.length !== 2 || projection.shape[1] !== vision.hiddenSize) {
      throw new UserError(`${WHERE}: the pretrained visual_projection is [${projection.shape.join(', ')}], but the evaluated model (${model.source}) has hidden_size ${vision.hiddenSize}; is clip_model the base of this model?`);
    }
    const logitScale = clip.logitScale();
    await runtime.profiler.time('zero-shot heads', () => this.ensureHeads());
    const processor = await this.processor();

    const results: [string, TaskResult][] = [];
    const session = await runtime.profiler.time('build vision session', () =>
      ClipVisionSession.create(vision, model.stateDict, { projection: projection.data, source: model.source }),
    );
    this.stats.visionSessionsBuilt++;
    try {
      for (const task of this.options.tasks) {
        const r = await runtime.profiler.time(`evaluate ${task.name}`, async () => {
          const ds = await this.dataset(task.name);
          return this.evaluateTask(task.name, ds, session, processor, this.heads.get(task.name)!, logitScale);
        });
        results.push([task.name, r]);
      }
    } finally {
      await session.dispose();
    }
    return buildReport(modelInfo(model.stateDict, name), results);
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
    ds: ImageClassificationDataset,
    session: ClipVisionSession,
    processor: CLIPImageProcessor,
    head: ZeroShotHead,
    logitScale: number,
  ): Promise<TaskResult> {
    const bs = this.options.batchSize;
    const end = this.fastDevRun ? Math.min(bs, ds.length) : ds.length;
    const metrics = new ClassificationMetrics(head.numClasses, ds.name);
    const size = session.config.imageSize;
    const bar = createProgress({ label: `Evaluating ${task}`, total: end, unit: 'images', stream: runtime.progress ?? undefined, quiet: runtime.progress === null });
    try {
      for await (const b of preprocessedBatches(ds, processor, { batchSize: bs, end })) {
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
    const cacheDir = runtime.cacheDir;
    const tokId = cacheDir === null ? '' : tokenizerIdentity(tokDir);
    let text: ClipTextSession | null = null;
    let tokenizer: CLIPTokenizer | null = null;
    try {
      for (const task of missing) {
        const data = await getClassnamesAndTemplates(task);
        const key = cacheDir === null
          ? null
          : headKey({ model: clip.identity(), tokenizer: tokId, textConfig: clip.textConfig, task, classnames: data.classnames, templates: data.templates });
        const cached = key && cacheDir !== null ? readCachedHead(cacheDir, key) : null;
        if (cached && cached.numClasses === data.classnames.length) {
          this.heads.set(task, cached);
          this.stats.headsFromDiskCache++;
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

  private dataset(task: string): Promise<ImageClassificationDataset> {
    let p = this.datasets.get(task);
    if (!p) {
      const spec = this.options.tasks.find((t) => t.name === task)!;
      p = loadImageClassificationDataset(spec.dataset);
      // A failed load is retried next time rather than remembered.
      p.catch(() => this.datasets.delete(task));
      this.datasets.set(task, p);
    }
    return p;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).slice(0, 5).join(', ') || '(none)'}`;
  return typeof v;
}
