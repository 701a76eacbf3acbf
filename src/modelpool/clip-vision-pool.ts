/**
 * fusion_bench's CLIPVisionModelPool: every model is a CLIPVisionModel (the `vision_model.*` tensors of a
 * CLIPModel or CLIPVisionModel checkpoint, with its vision config); saving writes what
 * `CLIPVisionModel.save_pretrained` writes.
 */
import { UserError } from '../errors.js';
import { openCheckpoint } from '../tensor/checkpoint.js';
import type { DType, StateDict } from '../tensor/types.js';
import { BaseModelPool, readConfigJson, torchDtypeName, type BaseModelPoolConfig } from './base-pool.js';
import { CLIP_FLOAT_KEYS, visionConfigJson } from './clip-vision-config.js';
import { spelledForSaving, visionTensorNames, type VisionKeySpelling } from './clip-vision-keys.js';
import type { ModelEntry } from './model-entry.js';
import type { Model, ModelConfig } from './model.js';
import { pythonJson } from './python-json.js';
import { resolveModelDir } from './resolve-model-dir.js';
import { savePretrained, savePretrainedOptions } from './save-pretrained.js';
import type { RunContext } from '../run-context.js';
import { SubsetStateDict } from './subset-state-dict.js';

export interface CLIPVisionModelPoolConfig extends BaseModelPoolConfig {
  processor?: unknown;
}

/** Written when the model's config does not say which transformers produced it. */
const DEFAULT_TRANSFORMERS_VERSION = '4.45.0';

/** Buffers that old checkpoints carry and transformers no longer loads: never merged. */
export function isPositionIdsBuffer(name: string): boolean {
  return name.endsWith('.position_ids');
}

export class CLIPVisionModelPool extends BaseModelPool {
  protected override readonly where: string = 'modelpool (CLIPVisionModelPool)';
  /** How each opened model's checkpoint spells its tensor names (transformers < 5 or ≥ 5). */
  private readonly spellings = new Map<string, VisionKeySpelling>();
  /**
   * fusion_bench loads each model with `CLIPVisionModel.from_pretrained`, float32 unless the entry sets
   * `torch_dtype`: merges compute and save in that dtype, whatever the checkpoint stores.
   */
  protected override readonly defaultTorchDtype: DType | null = 'F32';

  constructor(config: CLIPVisionModelPoolConfig, ctx?: RunContext) {
    super(config, ctx);
    const p = config.processor;
    if (p !== undefined && p !== null && typeof p !== 'string' && (typeof p !== 'object' || Array.isArray(p))) {
      throw new UserError(`modelpool.processor: expected a path or repo id (or a config mapping), got ${JSON.stringify(p)}`);
    }
  }

  /** The `processor` option: a path or repo id (or a config mapping), or null. */
  get processor(): unknown {
    return this.config.processor ?? null;
  }

  /** The processor's directory, for image preprocessing (`preprocessor_config.json`). */
  async resolveProcessorDir(): Promise<string> {
    const p = this.processor;
    if (typeof p !== 'string') throw new UserError(`${this.where}: 'processor' must be a path or repo id to be resolved, got ${JSON.stringify(p)}`);
    return resolveModelDir(p, { platform: this.platform, where: `${this.where}.processor` });
  }

  /** The whole CLIPModel behind a name (text tower, projections and logit scale included), as fusion_bench's `load_clip_model`. */
  async loadClipModel(name: string): Promise<Model> {
    const e = this.entry(name);
    if (e.kind === 'instance') return e.model;
    const dir = await resolveModelDir(e.spec, { platform: this.platform, where: `${this.where}.models.${name}` });
    const where = `${this.where}.models.${name} (${dir})`;
    const config = readConfigJson(dir, where);
    if (config === null) throw new UserError(`${where}: no config.json; a CLIP model directory needs one`);
    const ckpt = openCheckpoint(dir);
    return { stateDict: new SubsetStateDict(ckpt, ckpt.names().filter((n) => !isPositionIdsBuffer(n))), config, source: dir };
  }

  /**
   * Writes `config.json` (architectures CLIPVisionModel) and `model.safetensors` into the directory
   * `path`, with tensor names spelled as the pool's inputs spell them.
   */
  override async saveModel(model: Model, path: string, kwargs?: Record<string, unknown>): Promise<void> {
    const stateDict = spelledForSaving(model.stateDict, this.inputSpelling());
    await savePretrained(path, stateDict, pythonJson(clipVisionSaveConfig(model), CLIP_FLOAT_KEYS), { ...savePretrainedOptions(kwargs), status: this.ctx.status });
  }

  /** The spelling of `_pretrained_` if it was opened, else of the first model opened; prefixed if none was. */
  private inputSpelling(): VisionKeySpelling {
    return this.spellings.get('_pretrained_') ?? this.spellings.values().next().value ?? 'prefixed';
  }

  protected override openModel(name: string, entry: ModelEntry, dir: string): Model {
    const where = `${this.where}.models.${name} (${dir})`;
    const json = readConfigJson(dir, where);
    if (json === null) throw new UserError(`${where}: no config.json; a CLIP vision model directory needs one`);
    // from_pretrained records the name it was given, which save_pretrained writes back.
    const config: ModelConfig = { ...visionConfigJson(json, `${dir}/config.json`), _name_or_path: entry.kind === 'instance' ? dir : entry.spec };
    const ckpt = openCheckpoint(dir);
    const vision = visionTensorNames(ckpt.names(), (n) => !isPositionIdsBuffer(n));
    if (vision === null) {
      ckpt.close();
      throw new UserError(`${where}: the checkpoint has no vision tower tensors (vision_model.*, or embeddings.*/encoder.* as transformers ≥ 5 saves a CLIPVisionModel); is it a CLIP model?`);
    }
    if (!this.spellings.has(name)) this.spellings.set(name, vision.spelling);
    const stateDict: StateDict = new SubsetStateDict(ckpt, vision.names, vision.fileNames);
    return { stateDict, config, source: dir };
  }
}

/** The config.json `CLIPVisionModel.save_pretrained` writes for `model`. */
export function clipVisionSaveConfig(model: Model): ModelConfig {
  const base: ModelConfig = model.config ? visionConfigJson(model.config, `${model.source} config`) : visionConfigJson({ model_type: 'clip_vision_model' }, model.source);
  const first = model.stateDict.names().find((n) => /^F|^BF/.test(model.stateDict.info(n).dtype));
  return {
    ...base,
    architectures: ['CLIPVisionModel'],
    model_type: 'clip_vision_model',
    torch_dtype: first === undefined ? 'float32' : torchDtypeName(model.stateDict.info(first).dtype),
    transformers_version: typeof base.transformers_version === 'string' ? base.transformers_version : DEFAULT_TRANSFORMERS_VERSION,
  };
}
