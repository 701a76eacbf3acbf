/**
 * The task pool's config, as fusion_bench's CLIPVisionModelTaskPool takes it (`_recursive_: false`, so
 * sub-configs arrive as data): which CLIP model gives the text tower and projections, which processor
 * gives the tokenizer and the image preprocessing, the test data sets by task name, the batch size.
 */
import { UserError } from '../../errors.js';
import { FER2013_TARGET, fer2013OptionsFromCall, loadDatasetOptionsFromCall, type LoadDatasetOptions } from '../../data/index.js';
import { parseSplitOptions, type SplitOptions } from '../../data/train-validation-split.js';
import { hasClassificationTask, knownClassificationTasks } from '../../tasks/clip-classification/index.js';
import { putOwn } from '../../util/own.js';

export interface CLIPVisionModelTaskPoolConfig {
  /** Task name → `{_target_: datasets.load_dataset, ...}`. The names pick the class names and templates. */
  test_datasets: Record<string, unknown>;
  base_model?: string | null;
  /** A path / repo id, or `{_target_: transformers.CLIPModel.from_pretrained, pretrained_model_name_or_path}`. */
  clip_model?: unknown;
  /** Gives the tokenizer (and the image preprocessing unless data_processor is set). */
  processor?: unknown;
  /** Gives the image preprocessing; default the processor. */
  data_processor?: unknown;
  /** Only batch_size matters; num_workers, pin_memory, drop_last, shuffle are accepted. */
  dataloader_kwargs?: Record<string, unknown> | null;
  /** Evaluate the first batch of each task only; default the run context's fastDevRun (the program's fast_dev_run). */
  fast_dev_run?: boolean | null;
  layer_wise_feature_save_path?: string | null;
  layer_wise_feature_first_token_only?: boolean | null;
  layer_wise_feature_max_num?: number | null;
  [key: string]: unknown;
}

export interface TaskSpec {
  name: string;
  dataset: LoadDatasetOptions;
  /** A train_validation_split of `dataset` (its 'train' or 'val' part), or null for the whole split. */
  split: SplitOptions | null;
}

const SPLIT_TARGETS = new Set(['fusion_bench.utils.data.train_validation_split', 'train_validation_split']);
/** The data set loaders a test set may name (fer2013's is fusion_bench's own, in the TALL14/TALL20 task pools). */
const DATASET_CALLS: ReadonlyMap<string, typeof loadDatasetOptionsFromCall> = new Map([
  ['datasets.load_dataset', loadDatasetOptionsFromCall],
  [FER2013_TARGET, fer2013OptionsFromCall],
]);

export interface TaskPoolOptions {
  clipModel: string;
  processor: string;
  dataProcessor: string;
  tasks: TaskSpec[];
  batchSize: number;
  /** dataloader_kwargs.drop_last: the last partial batch is left out, as torch's DataLoader does. */
  dropLast: boolean;
  /** null: follow the run context's fastDevRun at evaluation time. */
  fastDevRun: boolean | null;
}

const WHERE = 'taskpool (CLIPVisionModelTaskPool)';
const DEFAULT_BATCH_SIZE = 128;

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A model or processor reference: a string, or a `*.from_pretrained` call given as data, whose first
 * argument (`pretrained_model_name_or_path` or `_args_[0]`) is the path; `revision` becomes `@revision`.
 */
export function pretrainedPathOf(value: unknown, key: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    if (value.trim() === '') throw new UserError(`${WHERE}.${key}: empty path`);
    return value;
  }
  if (!isDict(value)) throw new UserError(`${WHERE}.${key}: expected a path or repo id, or a {_target_: ...from_pretrained} config, got ${JSON.stringify(value)}`);
  const target = value._target_;
  if (typeof target !== 'string' || !target.endsWith('.from_pretrained')) {
    throw new UserError(`${WHERE}.${key}: expected _target_ to be a from_pretrained call (e.g. transformers.CLIPModel.from_pretrained), got ${JSON.stringify(target)}`);
  }
  const args = Array.isArray(value._args_) ? value._args_ : [];
  const path = value.pretrained_model_name_or_path ?? args[0];
  if (typeof path !== 'string' || path.trim() === '') {
    throw new UserError(`${WHERE}.${key}.pretrained_model_name_or_path: expected a path or repo id, got ${JSON.stringify(path)}`);
  }
  const revision = value.revision;
  if (revision !== undefined && revision !== null) {
    if (typeof revision !== 'string') throw new UserError(`${WHERE}.${key}.revision: expected a string, got ${JSON.stringify(revision)}`);
    if (!path.includes('@')) return `${path}@${revision}`;
  }
  return path;
}

/**
 * A test data set config: `datasets.load_dataset`, or fusion_bench's train_validation_split of one
 * (config/dataset/image_classification/val/*.yaml), which arrives as data here (`_recursive_: false`).
 */
function taskOf(name: string, cfg: unknown): TaskSpec {
  const where = `${WHERE}.test_datasets.${name}`;
  if (isDict(cfg) && typeof cfg._target_ === 'string' && SPLIT_TARGETS.has(cfg._target_)) {
    const split = parseSplitOptions(cfg, where);
    if (split.return_split !== 'train' && split.return_split !== 'val') {
      throw new UserError(`${where}.return_split: a task pool evaluates one data set; use 'train' or 'val', not ${JSON.stringify(split.return_split)}`);
    }
    if (!isDict(cfg.dataset)) throw new UserError(`${where}.dataset: expected a {_target_: datasets.load_dataset, ...} config, got ${JSON.stringify(cfg.dataset ?? null)}`);
    return { name, dataset: datasetOf(`${name}.dataset`, cfg.dataset), split };
  }
  return { name, dataset: datasetOf(name, cfg), split: null };
}

function datasetOf(name: string, cfg: unknown): LoadDatasetOptions {
  const where = `${WHERE}.test_datasets.${name}`;
  if (!isDict(cfg)) throw new UserError(`${where}: expected a {_target_: datasets.load_dataset, path: ..., split: ...} config, got ${JSON.stringify(cfg)}`);
  const target = cfg._target_;
  const call = typeof target === 'string' ? DATASET_CALLS.get(target) : undefined;
  if (call === undefined) {
    throw new UserError(`${where}._target_: only ${[...DATASET_CALLS.keys(), ...SPLIT_TARGETS].join(', ')} are supported, got ${JSON.stringify(target)}`);
  }
  const args = cfg._args_ ?? [];
  if (!Array.isArray(args)) throw new UserError(`${where}._args_: expected a list`);
  const kwargs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (!k.startsWith('_') || !k.endsWith('_')) putOwn(kwargs, k, v);
  return call(args, kwargs, where);
}

/** A batch this large would not fit in memory at 224 px (3·224·224 floats per image); torch would not manage either. */
const MAX_BATCH_SIZE = 65_536;

/**
 * dataloader_kwargs as torch's DataLoader reads them: batch_size and drop_last change the numbers;
 * shuffle only changes the order (accuracy is the same, loss as a mean of batch means is not), so it is
 * refused rather than silently ignored; num_workers / pin_memory do not apply here.
 */
function dataloaderOf(kw: unknown): { batchSize: number; dropLast: boolean } {
  if (kw === undefined || kw === null) return { batchSize: DEFAULT_BATCH_SIZE, dropLast: false };
  if (!isDict(kw)) throw new UserError(`${WHERE}.dataloader_kwargs: expected a mapping, got ${JSON.stringify(kw)}`);
  const b = kw.batch_size ?? DEFAULT_BATCH_SIZE;
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 1 || b > MAX_BATCH_SIZE) {
    throw new UserError(`${WHERE}.dataloader_kwargs.batch_size: expected an integer from 1 to ${MAX_BATCH_SIZE}, got ${JSON.stringify(b)}`);
  }
  const drop = kw.drop_last ?? false;
  if (typeof drop !== 'boolean') throw new UserError(`${WHERE}.dataloader_kwargs.drop_last: expected true or false, got ${JSON.stringify(drop)}`);
  if (kw.shuffle === true) throw new UserError(`${WHERE}.dataloader_kwargs.shuffle: evaluation reads the data in order; shuffle: true is not supported (set it to false)`);
  return { batchSize: b, dropLast: drop };
}

/** Checks the config and picks out what evaluation needs; unknown task names fail here, before any work. */
export function parseTaskPoolConfig(cfg: CLIPVisionModelTaskPoolConfig): TaskPoolOptions {
  if (!isDict(cfg)) throw new UserError(`${WHERE}: expected a mapping of options`);
  const td = cfg.test_datasets;
  if (!isDict(td)) throw new UserError(`${WHERE}.test_datasets: expected a mapping from task name to data set config, got ${JSON.stringify(td ?? null)}`);
  const unknown = Object.keys(td).filter((n) => !hasClassificationTask(n));
  if (unknown.length > 0) {
    throw new UserError(
      `${WHERE}.test_datasets: no class names and prompt templates for task${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}. ` +
        `Known tasks: ${knownClassificationTasks().join(', ')}`,
    );
  }
  const tasks = Object.entries(td).map(([name, c]) => taskOf(name, c));

  const base = cfg.base_model;
  if (base !== undefined && base !== null && typeof base !== 'string') throw new UserError(`${WHERE}.base_model: expected a path or repo id, got ${JSON.stringify(base)}`);
  const clipModel = pretrainedPathOf(cfg.clip_model, 'clip_model') ?? base ?? null;
  if (clipModel === null) throw new UserError(`${WHERE}: set clip_model (or base_model) to the CLIP model whose text tower builds the zero-shot heads, e.g. openai/clip-vit-base-patch32`);
  const processor = pretrainedPathOf(cfg.processor, 'processor') ?? clipModel;
  const dataProcessor = pretrainedPathOf(cfg.data_processor, 'data_processor') ?? processor;

  const fdr = cfg.fast_dev_run;
  if (fdr !== undefined && fdr !== null && typeof fdr !== 'boolean') throw new UserError(`${WHERE}.fast_dev_run: expected true, false or null, got ${JSON.stringify(fdr)}`);

  return { clipModel, processor, dataProcessor, tasks, ...dataloaderOf(cfg.dataloader_kwargs), fastDevRun: fdr ?? null };
}

/**
 * Layer-wise feature saving (torch.save of hooked activations) is not supported: accepted when unset, a
 * note on the progress stream when set, so that fusion_bench configs still run.
 */
export function layerWiseFeatureNote(cfg: CLIPVisionModelTaskPoolConfig): string | null {
  const p = cfg.layer_wise_feature_save_path;
  if (p === undefined || p === null) return null;
  return `${WHERE}: layer_wise_feature_save_path=${JSON.stringify(p)} is not supported (layer-wise features are not saved); evaluating without it\n`;
}
