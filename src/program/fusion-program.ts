import { dirname, join } from 'node:path';
import { isEnsemble, isPerTaskModels } from '../method/result.js';
import { UserError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import { instantiate, type InstantiateHooks } from '../registry/instantiate.js';
import { bordered, callText } from '../util/bordered.js';
import type { RunContext } from '../run-context.js';
import { snapshotRevision } from '../hub/snapshot-revision.js';
import type { RunInfoSource, TaskPool } from '../taskpool/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ensureDir } from '../util/ensure-dir.js';
import { refuseOverwritingInputs, type InputPath } from './output-guard.js';
import { reportScalars, type ExperimentLogger } from '../report/loggers/experiment-logger.js';
import { formatConfigTree } from './config-tree.js';
import { isFloat, toPlain, type ConfigValue } from '../config/values.js';
import { VERSION } from '../version.js';

export { snapshotRevision };
export type { RunInfoSource };

/** The extra top-level report key: what is needed to reproduce the run (the sweep summary ignores it). */
export interface RunInfo {
  fusion_bench_version: string;
  seed: number | null;
  config: unknown;
  models: Record<string, RunInfoSource>;
  datasets: Record<string, unknown>;
  started_at: string;
  finished_at: string | null;
}

export const RUN_INFO_KEY = 'run_info';

/** What the program needs of a merging method, a model pool and a task pool. */
export interface Algorithm {
  run(modelpool: unknown): unknown;
  /** What a method that trains reports beside the accuracies (final loss, merging weights), after run(). */
  reportExtras?(): Record<string, unknown> | null;
}

/** The report key of a method's own results (AdaMerging's merging weights, a fine-tuning's final loss). */
export const METHOD_INFO_KEY = 'method_info';
export interface ModelPoolLike {
  saveModel?(model: unknown, path: string, kwargs?: Record<string, unknown>): unknown;
}

export interface FusionProgramOptions {
  method: Record<string, unknown>;
  modelpool: Record<string, unknown>;
  taskpool?: Record<string, unknown> | null;
  fabric?: unknown;
  print_config?: boolean;
  dry_run?: boolean;
  report_save_path?: string | null | false;
  merged_model_save_path?: string | null;
  merged_model_save_kwargs?: Record<string, unknown> | null;
  fast_dev_run?: boolean;
  seed?: number | null;
  print_function_call?: boolean;
  path?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface FusionProgramResult {
  merged_model: unknown;
  report: unknown;
  report_path: string | null;
  merged_model_path: string | null;
}

/** `{log_dir}` in a path, as fusion_bench's str.format, when the run has a log directory. */
function withLogDir(p: string, logDir: string | null): string {
  return p.includes('{log_dir}') && logDir !== null ? p.replaceAll('{log_dir}', logDir) : p;
}

/**
 * fusion_bench's FabricModelFusionProgram (and ModelFusionProgram, the same flow without Lightning
 * Fabric): build the model pool, the method and the task pool from their configs, merge, save the
 * merged model, evaluate it and save the report. Sub-configs arrive as data (`_recursive_: false`) and
 * are instantiated here, in this order, as Python does.
 */
export class FabricModelFusionProgram {
  readonly options: FusionProgramOptions;
  modelpool: unknown = null;
  method: Algorithm | null = null;
  taskpool: TaskPool | null = null;
  /** `print_function_call` (default true, as fusion_bench's): each component's construction is shown as a call. */
  private readonly hooks: InstantiateHooks;
  /** The context the components get: the runner's (status, profiler, sweep cache, log dir) with this config's seed, fast_dev_run and cache dir. */
  readonly ctx: RunContext;

  constructor(options: FusionProgramOptions, private readonly registry: Registry, runner: RunContext, private readonly out: NodeJS.WritableStream = process.stdout) {
    for (const k of ['method', 'modelpool'] as const) {
      if (options[k] === undefined || options[k] === null) throw new UserError(`The program config has no '${k}': choose one, e.g. ${k}=${k === 'method' ? 'task_arithmetic' : 'CLIPVisionModelPool/clip-vit-base-patch32_svhn_and_mnist'}`);
    }
    this.options = options;
    const show = options.print_function_call;
    if (show !== undefined && show !== null && typeof show !== 'boolean') throw new UserError(`print_function_call: expected true or false, got ${JSON.stringify(show)}`);
    this.hooks = show === false ? {} : { onCall: (target, kwargs, partial) => this.out.write(bordered(callText(target, kwargs, partial), `Instantiate by calling ${/^[A-Z]/.test(target.slice(target.lastIndexOf('.') + 1)) ? 'class' : 'function'}`)) };
    const cacheDir = options.path?.cache_dir;
    const logDir = options.path?.log_dir;
    this.ctx = {
      ...runner,
      seed: seedOf(options.seed),
      fastDevRun: Boolean(options.fast_dev_run),
      cacheDir: typeof cacheDir === 'string' ? cacheDir : runner.cacheDir,
      logDir: runner.logDir ?? (typeof logDir === 'string' ? logDir : null),
    };
  }

  async run(): Promise<FusionProgramResult> {
    const o = this.options;
    const { profiler: prof, status, logDir } = this.ctx;
    if (o.print_config !== false) this.out.write(formatConfigTree(o as Record<string, unknown>, ['method', 'modelpool', 'taskpool']));
    if (o.dry_run) {
      status?.write('The program is running in dry-run mode. Exiting.\n');
      return { merged_model: null, report: null, report_path: null, merged_model_path: null };
    }
    const startedAt = new Date();
    const setup = async (key: 'modelpool' | 'method' | 'taskpool') => {
      const cfg = o[key] as Record<string, unknown>;
      if (!cfg || typeof cfg !== 'object' || !('_target_' in cfg)) {
        throw new UserError(`'${key}' has no _target_: fusion-bench needs fusion_bench v0.2-style configs with a _target_ (the v0.1 'name:' form is not supported)`);
      }
      // fusion_bench instantiates components with _recursive_ defaulting to false
      const recursive = cfg._recursive_ ?? false;
      return instantiate(this.registry, { ...cfg, _recursive_: recursive }, {}, key, this.ctx, this.hooks);
    };
    this.modelpool = await prof.time('loading model pool', () => setup('modelpool'));
    const loaded = recordLoads(this.modelpool);
    this.method = (await prof.time('loading method', () => setup('method'))) as Algorithm;
    if (o.taskpool) this.taskpool = (await prof.time('loading task pool', () => setup('taskpool'))) as TaskPool;
    const loggers = o.taskpool ? await this.experimentLoggers() : [];

    // the report's folder first: a path that cannot be written fails now, not after the evaluation
    const rp0 = o.report_save_path;
    const inputs = () => inputPathsOf(this.modelpool, loaded, this.taskpool);
    if (o.taskpool && typeof rp0 === 'string' && rp0.length > 0) {
      refuseOverwritingInputs('report_save_path', withLogDir(rp0, logDir), inputs());
      ensureDir(dirname(withLogDir(rp0, logDir)), 'the folder of report_save_path');
    }
    const mp = o.merged_model_save_path;
    if (typeof mp === 'string' && mp.length > 0) refuseOverwritingInputs('merged_model_save_path', withLogDir(mp, logDir), inputs());
    const merged = await prof.time('merging', () => this.method!.run(this.modelpool));
    let report: unknown = null;
    let reportPath: string | null = null;
    let modelPath: string | null = null;
    if (merged === null || merged === undefined) {
      status?.write('No merged model returned by the method. Skipping saving and evaluation.\n');
    } else {
      modelPath = await this.saveMergedModel(merged, inputs);
      if (this.taskpool) {
        report = await prof.time('evaluating', () => this.evaluate(this.taskpool!, merged));
        const extras = this.method?.reportExtras?.() ?? null;
        if (extras !== null && isPlainObject(report)) report = { ...report, [METHOD_INFO_KEY]: extras };
        this.out.write(JSON.stringify(report, null, 2) + '\n');
        // The record goes into the saved and returned report, not on stdout (which stays fusion_bench's).
        for (const logger of loggers) {
          logger.logMetrics(reportScalars(report), 0);
          for (const f of logger.finalize()) status?.write(`Logged the metrics to ${f}\n`);
        }
        if (isPlainObject(report)) report = { ...report, [RUN_INFO_KEY]: await this.runInfo(loaded, startedAt) };
        const rp = o.report_save_path;
        if (typeof rp === 'string' && rp.length > 0) {
          reportPath = withLogDir(rp, logDir);
          refuseOverwritingInputs('report_save_path', reportPath, inputs());
          ensureDir(dirname(reportPath), 'the folder of report_save_path');
          writeFileAtomic(reportPath, JSON.stringify(report, null, 2) + '\n');
        }
      } else {
        status?.write('No task pool specified. Skipping evaluation.\n');
      }
    }
    return { merged_model: merged, report, report_path: reportPath, merged_model_path: modelPath };
  }

  /**
   * `fabric.loggers` (one logger or a list), built through the registry. Their `root_dir` is fusion_bench's
   * `${path.log_dir}`; where the run's log dir differs (each job of a sweep has its own), they follow it,
   * as `{log_dir}` in output paths does, so every job is its own run in `tensorboard --logdir`.
   */
  private async experimentLoggers(): Promise<ExperimentLogger[]> {
    const fabric = this.options.fabric;
    if (!isPlainObject(fabric) || fabric.loggers === undefined || fabric.loggers === null) return [];
    const list = Array.isArray(fabric.loggers) ? fabric.loggers : [fabric.loggers];
    const pathLogDir = this.options.path?.log_dir;
    const out: ExperimentLogger[] = [];
    for (const [i, cfg] of list.entries()) {
      const where = Array.isArray(fabric.loggers) ? `fabric.loggers[${i}]` : 'fabric.loggers';
      if (!isPlainObject(cfg) || typeof cfg._target_ !== 'string') throw new UserError(`${where}: expected a logger config with a _target_ (e.g. fabric/loggers=tensorboard_logger), got ${JSON.stringify(cfg)}`);
      const root = cfg.root_dir === pathLogDir && this.ctx.logDir !== null ? { root_dir: this.ctx.logDir } : {};
      const logger = (await instantiate(this.registry, cfg, root, where, this.ctx, this.hooks)) as ExperimentLogger;
      if (typeof logger?.logMetrics !== 'function') throw new UserError(`${where}: '${cfg._target_}' is not an experiment logger`);
      out.push(logger);
    }
    return out;
  }

  /**
   * The run record: the tool's version, the seed, the resolved config the program got, where each model
   * the method loaded came from (with the hub commit), and the task pool's models and data sets.
   */
  async runInfo(loaded: ReadonlyMap<string, string>, startedAt: Date): Promise<RunInfo> {
    const pool = this.modelpool as { getModelPath?: (n: string) => string } | null;
    const models: Record<string, RunInfoSource> = {};
    for (const [name, dir] of loaded) {
      let source = dir;
      try {
        if (typeof pool?.getModelPath === 'function') source = pool.getModelPath(name);
      } catch {
        // a model given as an object has no path: its own source description stands
      }
      models[name] = { source, revision: snapshotRevision(dir) };
    }
    let datasets: Record<string, unknown> = {};
    const tp = this.taskpool;
    if (tp && typeof tp.runInfo === 'function') {
      const info = await tp.runInfo();
      Object.assign(models, info.models ?? {});
      datasets = info.datasets ?? {};
    }
    return {
      fusion_bench_version: VERSION,
      seed: this.ctx.seed,
      config: plainConfig(this.options),
      models,
      datasets,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
    };
  }

  private async saveMergedModel(merged: unknown, inputs: () => InputPath[]): Promise<string | null> {
    const p = this.options.merged_model_save_path;
    if (p === null || p === undefined || p === '') return null;
    const pool = this.modelpool as ModelPoolLike;
    if (typeof pool?.saveModel !== 'function') throw new UserError(`merged_model_save_path is set, but the model pool '${String((this.options.modelpool as Record<string, unknown>)._target_)}' cannot save models`);
    const savePath = withLogDir(p, this.ctx.logDir);
    // again now that the models are loaded: a hub model's snapshot folder is known only now
    refuseOverwritingInputs('merged_model_save_path', savePath, inputs());
    const kwargs = this.options.merged_model_save_kwargs ?? {};
    if (isEnsemble(merged)) throw new UserError(`merged_model_save_path is set, but the method returned an ensemble of ${merged.members.length} models, not one model to save; unset merged_model_save_path`);
    if (isPerTaskModels(merged)) {
      // one model per task, each in its own folder <path>/<task>/
      await this.ctx.profiler.time('saving', async () => {
        for (const task of merged.tasks) await pool.saveModel!(merged.model(task), join(savePath, task), kwargs);
      });
      this.ctx.status?.write(`Saved ${merged.tasks.length} per-task models to ${savePath}/<task>\n`);
      return savePath;
    }
    await this.ctx.profiler.time('saving', () => pool.saveModel!(merged, savePath, kwargs));
    this.ctx.status?.write(`Saved the merged model to ${savePath}\n`);
    return savePath;
  }

  /**
   * A model, or a dict of models (`models` nests) with metadata, as fusion_bench's evaluate_merged_model.
   * Per-task models evaluated each on every task report under `models` (fusion_bench's TALL shape);
   * per-task models evaluated each on its own task, and ensembles, go to the task pool as they are.
   */
  async evaluate(taskpool: TaskPool, merged: unknown): Promise<unknown> {
    if (isPerTaskModels(merged) && merged.evaluation !== 'own-task') {
      const models: Record<string, unknown> = {};
      for (const task of merged.tasks) models[task] = await taskpool.evaluate(merged.model(task));
      return merged.evaluation === 'every-task' ? { models, metadata: null } : models;
    }
    if (isPerTaskModels(merged) || isEnsemble(merged)) return taskpool.evaluate(merged);
    if (isModelDict(merged)) {
      const report: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(merged)) {
        if (isModel(item)) report[key] = await taskpool.evaluate(item);
        else if (key === 'models') report[key] = await this.evaluate(taskpool, item);
        else report[key] = item;
      }
      return report;
    }
    if (Array.isArray(merged)) {
      const out: unknown[] = [];
      for (const m of merged) out.push(await this.evaluate(taskpool, m));
      return out;
    }
    return taskpool.evaluate(merged);
  }
}

/** Every local path the run reads: the pool's models (as configured and as loaded) and the task pool's inputs. */
function inputPathsOf(pool: unknown, loaded: ReadonlyMap<string, string>, taskpool: TaskPool | null): InputPath[] {
  const out: InputPath[] = [];
  const p = pool as { allModelNames?: string[]; getModelPath?: (n: string) => string } | null;
  for (const name of p?.allModelNames ?? []) {
    try {
      out.push({ what: `model '${name}'`, path: p!.getModelPath!(name) });
    } catch {
      // a model given as an object has no path
    }
  }
  for (const [name, dir] of loaded) out.push({ what: `model '${name}'`, path: dir });
  for (const i of taskpool?.inputPaths?.() ?? []) out.push(i);
  return out;
}

/** fusion_bench's `seed`: an integer or null (Lightning's seed_everything takes an int). */
function seedOf(v: unknown): number | null {
  const x = isFloat(v) ? v.value : v;
  if (x === undefined || x === null) return null;
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new UserError(`seed: expected an integer or null, got ${JSON.stringify(x)}`);
  return x;
}

/**
 * Wraps the pool's loadModel to note where each model it hands out was loaded from (the directory, a
 * hub snapshot for repo ids), so the record names exactly what was merged.
 */
function recordLoads(pool: unknown): Map<string, string> {
  const seen = new Map<string, string>();
  const p = pool as { loadModel?: (name: string) => Promise<{ source?: unknown }> } | null;
  if (!p || typeof p.loadModel !== 'function') return seen;
  const load = p.loadModel.bind(p);
  p.loadModel = async (name: string) => {
    const m = await load(name);
    if (typeof m?.source === 'string') seen.set(name, m.source);
    return m;
  };
  return seen;
}

/** The program's options as JSON data: boxed floats unboxed, anything that is not config data left out. */
function plainConfig(o: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(o, (_k, v: unknown) => (isFloat(v) ? toPlain(v as ConfigValue) : typeof v === 'bigint' ? Number(v) : v)));
  } catch {
    return null;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A model is anything with a state dict; a plain object without one is a dict of results. */
function isModel(v: unknown): boolean {
  return typeof v === 'object' && v !== null && ('stateDict' in v || isPerTaskModels(v) || isEnsemble(v));
}
function isModelDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isModel(v);
}
