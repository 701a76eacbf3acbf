/**
 * fusion_bench's ImageClassificationFineTuningForCLIP (`classification/clip_finetune`): full fine-tuning
 * of the `_pretrained_` CLIP vision tower on every task of `modelpool.train_datasets` at once (per step
 * one shuffled batch per task, cross-entropy under the task's zero-shot head, losses summed), torch's
 * Adam with `weight_decay` as L2, CosineAnnealingLR over `num_steps`. The result is a CLIPVisionModel
 * (float32), saved by the program like any merged model; `state_dict_save_path` and the `save_interval`
 * checkpoints are Hugging Face model folders (config.json + model.safetensors), which
 * `state_dict_load_path` reads back. Gradients come from the tower's own ONNX graph (src/grad).
 * `use_lora`: peft's LoRA on `lora_config.target_modules` (src/grad/lora.ts), only the factors trained;
 * saved merged into the weights, or with `merge_lora: false` (our key; fusion_bench keeps the PeftModel)
 * as a peft adapter folder, which `state_dict_load_path` also resumes from.
 */
import { runContext, type RunContext } from '../../run-context.js';
import { existsSync } from 'node:fs';
import { writeFolderAtomic } from '../../grad/io/folder.js';
import { dirname, join } from 'node:path';
import { UserError } from '../../errors.js';
import type { ClipVisionGradSession } from '../../grad/clip-vision-grad.js';
import { Adam, CosineAnnealingLR } from '../../grad/optim.js';
import { initLora, isPeftAdapter, loraA, loraB, type LoraModule, loraModules, type LoraSpec, mergeLora, parseLoraConfig, readPeftAdapter, writePeftAdapter } from '../../grad/lora.js';
import { mulberry32 } from '../../util/prng.js';
import { type ClipVisionConfig, clipVisionConfigFrom } from '../../models/clip/config.js';
import { clipVisionParameterNames } from '../../models/clip/parameters.js';
import type { BaseModelPool } from '../../modelpool/base-pool.js';
import type { Model } from '../../modelpool/model.js';
import { openCheckpoint } from '../../tensor/checkpoint.js';
import { ComputedStateDict } from '../computed-state-dict.js';
import { addInPlace } from '../f32.js';
import type { ParamDef } from '../param-def.js';
import { Params } from '../params.js';
import { toPool, type PoolInput } from '../sources.js';
import { ClipTaskData, type ShuffledBatches } from './clip-tasks.js';

const NAME = 'ImageClassificationFineTuningForCLIP';
const PARAMS: readonly ParamDef[] = [
  { name: 'name', type: 'str', default: null, doc: 'accepted (fusion_bench v0.1 configs), no effect' },
  { name: 'seed', type: 'int', default: 42, doc: 'seed of the train-batch shuffling' },
  { name: 'learning_rate', type: 'float', default: 1e-5, min: 0, minExclusive: true, doc: 'Adam learning rate (cosine-annealed over num_steps)' },
  { name: 'weight_decay', type: 'float', default: 0, min: 0, doc: 'Adam weight decay (L2 added to the gradient)' },
  { name: 'num_steps', type: 'int', default: 4000, min: 1, doc: 'training steps (one batch per task each)' },
  { name: 'batch_size', type: 'int', default: 128, min: 1, doc: 'images per task per step' },
  { name: 'num_workers', type: 'int', default: 0, min: 0, doc: 'accepted, no effect' },
  { name: 'save_interval', type: 'int', default: 500, min: 1, doc: 'steps between checkpoints (checkpoints/step=N)' },
  { name: 'state_dict_load_path', type: 'str', default: null, doc: 'a model folder or safetensors file to start from' },
  { name: 'state_dict_save_path', type: 'str', default: null, doc: 'folder for the fine-tuned model (Hugging Face layout)' },
  { name: 'skip_training', type: 'bool', default: false, doc: 'with state_dict_load_path: only load' },
  { name: 'use_lora', type: 'bool', default: false, doc: 'LoRA fine-tuning: only the factors of lora_config.target_modules are trained' },
  { name: 'lora_config', type: 'any', default: null, doc: "peft LoraConfig: r, lora_alpha, target_modules, lora_dropout, bias ('none')" },
  { name: 'merge_lora', type: 'bool', default: true, doc: 'save the LoRA result merged into the weights (Hugging Face model); false: a peft adapter folder (adapter_config.json + adapter_model.safetensors)' },
  { name: 'use_l_lora', type: 'bool', default: false, doc: 'L-LoRA fine-tuning (not supported yet)' },
];

export class ImageClassificationFineTuningForCLIP {
  static readonly params = PARAMS;
  static readonly configKeys: readonly string[] = PARAMS.map((d) => d.name);
  static readonly summary = 'fine-tuning of the pretrained CLIP vision tower on the train sets (Adam + cosine)';
  readonly seed: number;
  readonly learning_rate: number;
  readonly weight_decay: number;
  readonly num_steps: number;
  readonly batch_size: number;
  readonly save_interval: number;
  readonly state_dict_load_path: string | null;
  readonly state_dict_save_path: string | null;
  readonly skip_training: boolean;
  readonly lora: LoraSpec | null;
  readonly merge_lora: boolean;
  /** Summed loss per step, set by run(). */
  losses: number[] = [];

  /** What the report says of the run beside the accuracies: the final (task-summed) loss and the steps. */
  reportExtras(): Record<string, unknown> | null {
    return this.losses.length === 0 ? null : { final_loss: this.losses[this.losses.length - 1], steps: this.losses.length };
  }

  constructor(config: Record<string, unknown>, private readonly runCtx: RunContext = runContext()) {
    const p = new Params(config, NAME);
    this.seed = p.seed('seed', 42);
    this.learning_rate = p.number('learning_rate', { dflt: 1e-5 });
    if (!(this.learning_rate > 0)) throw new UserError(`${NAME}: option 'learning_rate' must be positive, got ${this.learning_rate}`);
    this.weight_decay = p.number('weight_decay', { dflt: 0, min: 0 });
    const int = (key: string, dflt: number, min: number) => {
      const v = p.number(key, { dflt });
      if (!Number.isInteger(v) || v < min) throw new UserError(`${NAME}: option '${key}' must be an integer ≥ ${min}, got ${v}`);
      return v;
    };
    this.num_steps = int('num_steps', 4000, 1);
    this.batch_size = int('batch_size', 128, 1);
    this.save_interval = int('save_interval', 500, 1);
    this.state_dict_load_path = p.optionalString('state_dict_load_path');
    this.state_dict_save_path = p.optionalString('state_dict_save_path');
    this.skip_training = p.bool('skip_training', false);
    if (p.bool('use_l_lora', false)) throw new UserError(`${NAME}: use_l_lora (L-LoRA) is not supported yet; set it to false`);
    this.lora = p.bool('use_lora', false) ? parseLoraConfig(config.lora_config, `${NAME}: lora_config`) : null;
    this.merge_lora = p.bool('merge_lora', true);
  }

  async run(input: PoolInput): Promise<Model> {
    const pool = toPool(input);
    const base = await pool.loadPretrainedModel();
    try {
      if (!base.config) throw new UserError(`${NAME}: the pretrained model (${base.source}) has no config.json`);
      const cfg = clipVisionConfigFrom(base.config, `${base.source} config`);
      const keys = clipVisionParameterNames(cfg);
      const missing = keys.filter((k) => !base.stateDict.has(k));
      if (missing.length) throw new UserError(`${NAME}: the pretrained model (${base.source}) is not a CLIP vision model: it lacks ${missing.slice(0, 3).join(', ')}`);
      const weights = new Map(keys.map((k) => [k, base.stateDict.loadF32(k)]));
      const loadPath = this.state_dict_load_path;
      const lora = this.lora ? this.loraState(cfg, this.lora) : null;
      if (loadPath !== null) {
        if (lora && existsSync(loadPath) && isPeftAdapter(loadPath)) readPeftAdapter(loadPath, lora.spec, lora.modules, lora.params, `${NAME}: state_dict_load_path ${loadPath}`);
        else this.load(loadPath, weights);
      }
      if (!(loadPath !== null && this.skip_training)) await this.train(pool, cfg, base, weights, lora);
      const model = this.model(base, lora ? mergedWeights(weights, lora) : weights);
      if (this.state_dict_save_path !== null) await this.save(pool, model, base, lora, this.state_dict_save_path);
      return model;
    } catch (e) {
      base.stateDict.close?.();
      throw e;
    }
  }

  private loraState(cfg: ClipVisionConfig, spec: LoraSpec): LoraState {
    const modules = loraModules(cfg, spec, `${NAME}: lora_config`);
    return { spec, modules, params: initLora(modules, spec, this.seed) };
  }

  /** The result at `dir`: a Hugging Face model folder, or with LoRA and merge_lora false a peft adapter folder. */
  private async save(pool: BaseModelPool, model: Model, base: Model, lora: LoraState | null, dir: string): Promise<void> {
    if (lora && !this.merge_lora) await writePeftAdapter(dir, lora.spec, lora.modules, lora.params, base.source);
    else await saveFolder(pool, model, dir);
  }

  /**
   * The fine-tuned tower: float32 trained tensors, everything else as in the pretrained model. Closing
   * it closes the pretrained model when `owns` (the returned model; checkpoints do not).
   */
  private model(base: Model, weights: Map<string, Float32Array>, owns = true): Model {
    const sd = base.stateDict;
    const stateDict = new ComputedStateDict({
      names: sd.names(),
      info: (n) => (weights.has(n) ? { dtype: 'F32', shape: sd.info(n).shape } : sd.info(n)),
      compute: (n, out) => {
        const w = weights.get(n);
        if (!w) return sd.loadF32(n);
        if (!out || out.length < w.length) return w.slice();
        out.set(w);
        return out.subarray(0, w.length);
      },
      raw: (n) => (weights.has(n) ? undefined : sd.loadRaw?.(n)),
      onClose: () => (owns ? sd.close?.() : undefined),
    });
    return { stateDict, config: base.config, source: `${NAME} of ${base.source}` };
  }

  private load(path: string, weights: Map<string, Float32Array>): void {
    const where = `${NAME}: state_dict_load_path ${path}`;
    if (!existsSync(path)) throw new UserError(`${where}: no such file or folder`);
    const ckpt = openCheckpoint(path);
    try {
      for (const [k, w] of weights) {
        if (!ckpt.has(k)) throw new UserError(`${where}: tensor ${k} is missing`);
        const v = ckpt.loadF32(k);
        if (v.length !== w.length) throw new UserError(`${where}: tensor ${k} has ${v.length} values, the model ${w.length}`);
        w.set(v);
      }
    } finally {
      ckpt.close();
    }
  }

  private async train(pool: BaseModelPool, cfg: ClipVisionConfig, base: Model, weights: Map<string, Float32Array>, lora: LoraState | null): Promise<void> {
    const tasks = pool.trainDatasetNames;
    if (tasks.length === 0) throw new UserError(`${NAME}: the model pool has no train_datasets to fine-tune on`);
    const ctx = await ClipTaskData.open(pool, NAME, this.runCtx.cacheDir);
    let session: ClipVisionGradSession | null = null;
    try {
      const heads = await ctx.heads(tasks);
      const loaders: ShuffledBatches[] = [];
      for (const [i, t] of tasks.entries()) loaders.push(await ctx.batches('train_datasets', t, this.batch_size, this.seed + i));
      session = await ctx.gradSession(cfg, base.stateDict, 'cross_entropy', Math.min(this.batch_size, Math.max(...loaders.map((l) => l.dataset.length))), heads, undefined, lora ?? undefined);
      // With LoRA only the factors are trained; the frozen weights are still fed (graph inputs).
      const trained = lora ? lora.params : weights;
      const dropout = mulberry32(this.seed + 0x10ad);
      const opt = new Adam({ lr: this.learning_rate, weightDecay: this.weight_decay });
      const sched = new CosineAnnealingLR(this.learning_rate, this.num_steps);
      const every = Math.max(1, Math.floor(this.num_steps / 20));
      let lastFinite: number | null = null;
      for (let step = 0; step < this.num_steps; step++) {
        const started = performance.now();
        let loss = 0;
        let images = 0;
        let acc: Map<string, Float32Array> | null = null;
        for (const [i, t] of tasks.entries()) {
          const b = await loaders[i]!.nextBatch();
          const masks = session.lora?.masks(dropout);
          const r = await session.run((k) => trained.get(k) ?? masks?.get(k) ?? weights.get(k)!, b.pixels, heads.get(t)!.weights, b.labels);
          if (!Number.isFinite(r.loss)) {
            throw new UserError(`${NAME}: the loss of task ${t} is ${r.loss} at step ${step}; ${lastFinite === null ? 'no finite loss before it' : `the last finite loss was ${lastFinite}`}. Nothing was saved as final; try a smaller learning_rate.`);
          }
          loss += r.loss;
          images += b.labels.length;
          if (acc === null) acc = new Map([...r.grads].map(([k, g]) => [k, g.slice()]));
          else for (const [k, g] of r.grads) addInPlace(acc.get(k)!, g);
        }
        lastFinite = loss;
        this.losses.push(loss);
        opt.lr = sched.lr;
        opt.step(trained, acc!);
        sched.step();
        this.runCtx.profiler.record('training step', (performance.now() - started) / 1000);
        if (step === 0 || step === this.num_steps - 1 || (step + 1) % every === 0) {
          this.runCtx.status?.write(`${NAME} step ${step + 1}/${this.num_steps}: loss ${loss.toFixed(4)}, ${(images / ((performance.now() - started) / 1000)).toFixed(1)} images/s\n`);
        }
        if ((step + 1) % this.save_interval === 0 && step + 1 < this.num_steps) {
          // fusion_bench: <log_dir>/checkpoints/step={step}.ckpt (a folder here); without a log dir (library
          // use), beside state_dict_save_path.
          const dir = join(this.runCtx.logDir ?? (this.state_dict_save_path ? dirname(this.state_dict_save_path) : '.'), 'checkpoints', `step=${step}`);
          await this.save(pool, this.model(base, lora ? mergedWeights(weights, lora) : weights, false), base, lora, dir);
        }
      }
    } finally {
      await session?.dispose();
      ctx.close();
    }
  }
}

interface LoraState {
  readonly spec: LoraSpec;
  readonly modules: readonly LoraModule[];
  /** The factors, keyed by loraA / loraB. */
  readonly params: Map<string, Float32Array>;
}

/** The weights with every adapted Linear weight replaced by W + scaling · B·A. */
function mergedWeights(weights: ReadonlyMap<string, Float32Array>, lora: LoraState): Map<string, Float32Array> {
  const out = new Map(weights);
  for (const m of lora.modules) {
    const k = `${m.key}.weight`;
    out.set(k, mergeLora(weights.get(k)!, lora.params.get(loraA(m))!, lora.params.get(loraB(m))!, m, lora.spec.r, lora.spec.scaling));
  }
  return out;
}

/** The model as a Hugging Face folder, written beside `dir` and renamed into place (never half a folder at `dir`). */
async function saveFolder(pool: BaseModelPool, model: Model, dir: string): Promise<void> {
  await writeFolderAtomic(dir, (tmp) => pool.saveModel(model, tmp));
}
