/**
 * fusion_bench's BaseModelPool: a named set of models (`_pretrained_` and other `_special_` names
 * included), loaded on demand as lazy state dicts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { openCheckpoint } from '../tensor/checkpoint.js';
import { writeSafetensors } from '../tensor/safetensors-write.js';
import type { DType } from '../tensor/types.js';
import { parseModelEntry, type ModelEntry } from './model-entry.js';
import type { Model, ModelConfig } from './model.js';
import { pythonJson } from './python-json.js';
import { checkPlatform, resolveModelDir, type Platform } from './resolve-model-dir.js';
import { DtypeViewStateDict, parseTorchDtype } from './dtype-view.js';
import { savePretrained, savePretrainedOptions } from './save-pretrained.js';
import { SubsetStateDict } from './subset-state-dict.js';
import { runContext, type RunContext } from '../run-context.js';

export interface BaseModelPoolConfig {
  models: unknown;
  train_datasets?: unknown;
  val_datasets?: unknown;
  test_datasets?: unknown;
  platform?: unknown;
  [key: string]: unknown;
}

function isDictLike(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** torch dtype names as transformers writes them in config.json. */
export function torchDtypeName(dtype: DType): string {
  const names: Partial<Record<DType, string>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };
  return names[dtype] ?? 'float32';
}

export function readConfigJson(dir: string, where: string): ModelConfig | null {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) return null;
  const text = readFileSync(p, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    try {
      // Python's json writes NaN and Infinity, which JSON.parse refuses.
      parsed = JSON.parse(text.replace(/\bNaN\b|-?\bInfinity\b/g, 'null'));
    } catch {
      throw new UserError(`${where}: cannot parse ${p}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (!isDictLike(parsed)) throw new UserError(`${where}: ${p} must hold a JSON object`);
  return parsed;
}

export class BaseModelPool {
  /** The constructor's config object, as given. */
  readonly config: Readonly<Record<string, unknown>>;
  protected readonly entries: ReadonlyMap<string, ModelEntry>;
  protected readonly platform: Platform;
  /** Prefix of error messages. */
  protected readonly where: string = 'modelpool';
  /** The floating dtype of a model whose entry sets no `torch_dtype` (null: as stored). */
  protected readonly defaultTorchDtype: DType | null = null;

  constructor(config: BaseModelPoolConfig, protected readonly ctx: RunContext = runContext()) {
    if (!isDictLike(config)) throw new UserError(`modelpool: expected a mapping of options with 'models', got ${JSON.stringify(config)}`);
    this.config = config;
    let models = config.models;
    if (Array.isArray(models)) models = Object.fromEntries(models.map((m, i) => [String(i), m]));
    if (!isDictLike(models)) {
      throw new UserError(`modelpool.models: expected a mapping from model names to paths, repo ids or configs, got ${JSON.stringify(models ?? null)}`);
    }
    const entries = new Map<string, ModelEntry>();
    for (const [name, value] of Object.entries(models)) {
      const e = parseModelEntry(name, value, 'modelpool');
      if (e.kind === 'target') parseTorchDtype(e.options.torch_dtype, `modelpool.models.${name}`);
      entries.set(name, e);
    }
    this.entries = entries;
    this.platform = checkPlatform(config.platform, 'modelpool');
  }

  /** Names starting and ending with `_` (`_pretrained_`, `_merged_`) are special. */
  static isSpecialModel(name: string): boolean {
    return name.startsWith('_') && name.endsWith('_');
  }

  get allModelNames(): string[] {
    return [...this.entries.keys()];
  }

  /** Regular models, special ones excluded. */
  get modelNames(): string[] {
    return this.allModelNames.filter((n) => !BaseModelPool.isSpecialModel(n));
  }

  get hasPretrained(): boolean {
    return this.entries.has('_pretrained_');
  }

  get hasMerged(): boolean {
    return this.entries.has('_merged_');
  }

  /** fusion_bench's `len(modelpool)`: the number of regular models. */
  get size(): number {
    return this.modelNames.length;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Whether `name` is a model object given to the pool (then `loadModel` returns that same object). */
  isInstanceModel(name: string): boolean {
    return this.entry(name).kind === 'instance';
  }

  /** The path or repo id a model is loaded from. */
  getModelPath(name: string): string {
    const e = this.entry(name);
    if (e.kind === 'instance') throw new UserError(`${this.where}: model '${name}' was given as a model object and has no path`);
    return e.spec;
  }

  get trainDatasetNames(): string[] {
    return isDictLike(this.config.train_datasets) ? Object.keys(this.config.train_datasets) : [];
  }

  get valDatasetNames(): string[] {
    return isDictLike(this.config.val_datasets) ? Object.keys(this.config.val_datasets) : [];
  }

  get testDatasetNames(): string[] {
    return isDictLike(this.config.test_datasets) ? Object.keys(this.config.test_datasets) : [];
  }

  /** Loads a model by name; each call opens it afresh (close its state dict when done) unless it is a given object. */
  async loadModel(name: string): Promise<Model> {
    const e = this.entry(name);
    if (e.kind === 'instance') return e.model;
    const where = `${this.where}.models.${name}`;
    const given = e.kind === 'target' ? e.options.torch_dtype : undefined;
    const dtype = given === undefined || given === null ? this.defaultTorchDtype : parseTorchDtype(given, where);
    const dir = await resolveModelDir(e.spec, { platform: this.platform, where });
    const model = this.openModel(name, e, dir);
    return dtype === null ? model : { ...model, stateDict: new DtypeViewStateDict(model.stateDict, dtype) };
  }

  async loadPretrainedModel(): Promise<Model> {
    if (!this.hasPretrained) throw new UserError(`${this.where}: no pretrained model: add '_pretrained_' to the models mapping`);
    return this.loadModel('_pretrained_');
  }

  async loadPretrainedOrFirstModel(): Promise<Model> {
    if (this.hasPretrained) return this.loadModel('_pretrained_');
    const first = this.modelNames[0];
    if (first === undefined) throw new UserError(`${this.where}: the models mapping has no models`);
    return this.loadModel(first);
  }

  /**
   * Saves a model's weights. A path ending in `.safetensors` gets one file (fusion_bench's base pool
   * writes a single `torch.save` file); any other path becomes a directory with model.safetensors and,
   * when the model has one, config.json.
   */
  async saveModel(model: Model, path: string, kwargs?: Record<string, unknown>): Promise<void> {
    if (path.endsWith('.safetensors')) {
      await writeSafetensors(path, model.stateDict, { metadata: { format: 'pt' } });
      return;
    }
    await savePretrained(path, model.stateDict, model.config ? pythonJson(model.config) : null, { ...savePretrainedOptions(kwargs), status: this.ctx.status });
  }

  /** Opens a resolved model directory (or file). Subclasses shape what a model is. */
  protected openModel(name: string, _entry: ModelEntry, dir: string): Model {
    // the config first: a bad config.json must not leave the weights' file open
    const config = statSync(dir).isDirectory() ? readConfigJson(dir, `${this.where}.models.${name}`) : null;
    const ckpt = openCheckpoint(dir);
    const stateDict = new SubsetStateDict(ckpt, ckpt.names());
    return { stateDict, config, source: dir };
  }

  protected entry(name: string): ModelEntry {
    const e = this.entries.get(name);
    if (e === undefined) {
      throw new UserError(`${this.where}: model '${name}' not found in the model pool. Available models: ${this.allModelNames.map((n) => `'${n}'`).join(', ') || '(none)'}`);
    }
    return e;
  }
}
