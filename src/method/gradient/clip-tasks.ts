/**
 * What the gradient methods need of a CLIP vision model pool besides the models (fusion_bench's
 * CLIPClassificationMixin): the pretrained CLIPModel (`_pretrained_`: visual_projection, logit_scale, the
 * text tower for the zero-shot heads), the processor (tokenizer, image preprocessing), and the pool's
 * `train_datasets` / `test_datasets` as shuffled, endlessly repeating batches of preprocessed images.
 */
import { UserError } from '../../errors.js';
import { loadDatasetOptionsFromCall, loadImageClassificationDataset, type LoadDatasetOptions } from '../../data/index.js';
import type { ImageClassificationDataset } from '../../data/image-classification.js';
import { ClipVisionGradSession, type VisionGradOptions, type VisionLoss } from '../../grad/clip-vision-grad.js';
import type { ClipVisionConfig } from '../../models/clip/config.js';
import type { BaseModelPool } from '../../modelpool/base-pool.js';
import type { StateDict } from '../../tensor/types.js';
import { CLIPImageProcessor } from '../../models/clip/image-processor.js';
import { CLIPTokenizer } from '../../models/clip/tokenizer.js';
import { getClassnamesAndTemplates, hasClassificationTask } from '../../tasks/clip-classification/index.js';
import { computeZeroShotHead, PretrainedClip, type ZeroShotHead } from '../../taskpool/clip-vision/index.js';
import { pretrainedPathOf } from '../../taskpool/clip-vision/options.js';
import { resolveClipDir, tokenizerIdentity } from '../../taskpool/clip-vision/pretrained-clip.js';
import { headKey, readCachedHead, writeCachedHead } from '../../taskpool/clip-vision/head-cache.js';
import type { ClipTextSession } from '../../models/clip/session.js';
import { mulberry32 } from '../../util/prng.js';

export type DatasetKind = 'train_datasets' | 'test_datasets';

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `pool.<kind>.<task>` as `datasets.load_dataset` options. */
function datasetOptions(pool: BaseModelPool, kind: DatasetKind, task: string, owner: string): LoadDatasetOptions {
  const all = pool.config[kind];
  const where = `${owner}: modelpool.${kind}.${task}`;
  if (!isDict(all) || !(task in all)) {
    throw new UserError(`${owner}: the model pool has no ${kind} entry for task '${task}' (it has ${isDict(all) ? Object.keys(all).map((k) => `'${k}'`).join(', ') || 'none' : 'none'}); add modelpool.${kind}.${task}`);
  }
  const cfg = all[task];
  if (!isDict(cfg) || cfg._target_ !== 'datasets.load_dataset') throw new UserError(`${where}: expected a {_target_: datasets.load_dataset, ...} config, got ${JSON.stringify(cfg)}`);
  const args = cfg._args_ ?? [];
  if (!Array.isArray(args)) throw new UserError(`${where}._args_: expected a list`);
  const kwargs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (!k.startsWith('_') || !k.endsWith('_')) kwargs[k] = v;
  return loadDatasetOptionsFromCall(args, kwargs, where);
}

/** Endless shuffled batches of one data set (a fresh permutation per pass, as DataLoader(shuffle=True) in a loop). */
export class ShuffledBatches {
  private order: number[] = [];
  private at = 0;
  private readonly next: () => number;
  private readonly cache = new Map<number, { pixels: Float32Array; label: number }>();

  constructor(
    readonly dataset: ImageClassificationDataset,
    private readonly processor: CLIPImageProcessor,
    readonly batchSize: number,
    seed: number,
    /** Images kept preprocessed in memory (a small data set is decoded once). */
    private readonly keep: number,
  ) {
    this.next = mulberry32(seed);
  }

  private reshuffle(): void {
    const n = this.dataset.length;
    this.order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
    }
    this.at = 0;
  }

  private async row(i: number): Promise<{ pixels: Float32Array; label: number }> {
    const kept = this.cache.get(i);
    if (kept) return kept;
    const { image, label } = await this.dataset.getRGB(i);
    const s = this.processor.outputSize(image.height, image.width);
    const pixels = new Float32Array(3 * s.height * s.width);
    this.processor.preprocessInto(image, pixels);
    const r = { pixels, label };
    if (this.cache.size < this.keep) this.cache.set(i, r);
    return r;
  }

  /** The next batch: up to batchSize images (the last of a pass may be smaller, as drop_last=False). */
  async nextBatch(): Promise<{ pixels: Float32Array; labels: Int32Array }> {
    if (this.at >= this.order.length) this.reshuffle();
    const rows = this.order.slice(this.at, this.at + this.batchSize);
    this.at += rows.length;
    const items = [];
    for (const r of rows) items.push(await this.row(r));
    const per = items[0]!.pixels.length;
    const pixels = new Float32Array(per * items.length);
    items.forEach((it, k) => {
      if (it.pixels.length !== per) throw new UserError(`${this.dataset.name}: images preprocess to different sizes (enable do_center_crop)`);
      pixels.set(it.pixels, k * per);
    });
    return { pixels, labels: Int32Array.from(items, (it) => it.label) };
  }
}

export class ClipTaskData {
  private constructor(
    readonly owner: string,
    readonly pool: BaseModelPool,
    readonly clip: PretrainedClip,
    readonly processorDir: string,
    readonly processor: CLIPImageProcessor,
    private readonly cacheDir: string | null,
  ) {}

  /**
   * `cacheDir` (the run's `path.cache_dir`): zero-shot heads are read from and written to the task pool's
   * on-disk head cache there, under the same keys, so a method and the evaluation after it compute each
   * head once.
   */
  static async open(pool: BaseModelPool, owner: string, cacheDir: string | null = null): Promise<ClipTaskData> {
    if (!pool.hasPretrained) throw new UserError(`${owner}: the model pool needs a '_pretrained_' CLIP model (its text tower builds the zero-shot heads)`);
    const clip = await PretrainedClip.open(pool.getModelPath('_pretrained_'), `${owner}: modelpool.models._pretrained_`);
    try {
      const spec = pretrainedPathOf(pool.config.processor, 'processor') ?? clip.spec;
      const processorDir = await resolveClipDir(spec);
      return new ClipTaskData(owner, pool, clip, processorDir, CLIPImageProcessor.fromDir(processorDir), cacheDir);
    } catch (e) {
      clip.close();
      throw e;
    }
  }

  /** Zero-shot heads of the given tasks (class names and templates by task name), computed with the text tower. */
  async heads(tasks: readonly string[]): Promise<Map<string, ZeroShotHead>> {
    const unknown = tasks.filter((t) => !hasClassificationTask(t));
    if (unknown.length) throw new UserError(`${this.owner}: no zero-shot head for task${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `'${t}'`).join(', ')} (no class names and templates known by that name)`);
    const cacheDir = this.cacheDir;
    const tokId = cacheDir === null ? '' : tokenizerIdentity(this.processorDir);
    let text: ClipTextSession | null = null;
    let tokenizer: CLIPTokenizer | null = null;
    try {
      const out = new Map<string, ZeroShotHead>();
      for (const t of tasks) {
        const data = await getClassnamesAndTemplates(t);
        const key = cacheDir === null ? null : headKey({ model: this.clip.identity(), tokenizer: tokId, textConfig: this.clip.textConfig, task: t, classnames: data.classnames, templates: data.templates });
        const cached = key ? readCachedHead(cacheDir!, key) : null;
        if (cached && cached.numClasses === data.classnames.length) {
          out.set(t, cached);
          continue;
        }
        tokenizer ??= CLIPTokenizer.fromDir(this.processorDir);
        text ??= await this.clip.textSession();
        const head = await computeZeroShotHead(text, tokenizer, data);
        out.set(t, head);
        if (key) writeCachedHead(cacheDir!, key, head);
      }
      return out;
    } finally {
      await text?.dispose();
    }
  }

  /** The task's data set of `kind`, as endless shuffled batches; an empty data set is a UserError. */
  async batches(kind: DatasetKind, task: string, batchSize: number, seed: number): Promise<ShuffledBatches> {
    const ds = await loadImageClassificationDataset(datasetOptions(this.pool, kind, task, this.owner));
    if (ds.length === 0) throw new UserError(`${this.owner}: the ${kind} of task '${task}' (${ds.name}) is empty`);
    // Keep up to ~256 MB of preprocessed images per task in memory.
    const per = 3 * (this.processor.outputSize(224, 224).height ** 2);
    return new ShuffledBatches(ds, this.processor, batchSize, seed, Math.floor(256e6 / (4 * per)));
  }

  /**
   * A gradient session for the vision tower `sd` under these heads (classes: the largest head), with the
   * pretrained visual_projection and logit_scale; batches of at most `batch` images.
   */
  async gradSession(cfg: ClipVisionConfig, sd: StateDict, loss: VisionLoss, batch: number, heads: ReadonlyMap<string, ZeroShotHead>, trainable?: (key: string) => boolean, lora?: VisionGradOptions['lora']): Promise<ClipVisionGradSession> {
    const projection = this.clip.visualProjection();
    if (projection.shape[1] !== cfg.hiddenSize) throw new UserError(`${this.owner}: the pretrained visual_projection is [${projection.shape.join(', ')}], but the vision tower has hidden_size ${cfg.hiddenSize}`);
    const classes = Math.max(...[...heads.values()].map((h) => h.numClasses));
    return ClipVisionGradSession.create(cfg, sd, { loss, batch, projection: projection.data, classes, logitScale: this.clip.logitScale(), source: this.owner, ...(trainable ? { trainable } : {}), ...(lora ? { lora } : {}) });
  }

  close(): void {
    this.clip.close();
  }
}
