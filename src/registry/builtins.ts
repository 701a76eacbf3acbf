import { UserError } from '../errors.js';
import { Registry, type TargetSpec } from './registry.js';
import { METHODS } from '../method/index.js';
import { MODELPOOLS } from '../modelpool/index.js';
import type { RunContext } from '../run-context.js';
import { defaultText, paramNames, typeText, type ParamDef } from '../method/param-def.js';

type Ctor = new (kwargs: Record<string, unknown>, ctx: RunContext) => unknown;

/** A class whose constructor takes one keyword object, as every class of this library does. */
function cls(load: () => Promise<Ctor> | Ctor, summary?: string, params: string[] = []): TargetSpec {
  return { params, summary, load: async () => { const C = await load(); return (kw, ctx) => new C(kw, ctx); } };
}

/** A class that declares its parameters (merging methods): they give `_args_` names, the unknown-key check and the listing. */
type Declared = Ctor & { readonly params?: readonly ParamDef[]; readonly configKeys?: readonly string[]; readonly summary?: string };

function declaredSpec(C: Declared, summary: string): TargetSpec {
  const spec = cls(() => C, C.summary ?? summary, [...(C.configKeys ?? [])]);
  if (C.params === undefined) return spec;
  return {
    ...spec,
    params: paramNames(C.params),
    acceptsExtra: false,
    paramsDoc: C.params.map((d) => ({ name: d.name, type: typeText(d), default: defaultText(d), doc: d.doc })),
  };
}

/**
 * Registers a table `{ 'fusion_bench.x.Name': Class }`: the first name of each class is its canonical
 * name, the others (module paths) and the bare class name are aliases.
 */
function registerTable(r: Registry, table: Readonly<Record<string, Declared>>, summary: (name: string) => string): void {
  const byClass = new Map<Declared, string[]>();
  for (const [name, C] of Object.entries(table)) {
    if (!byClass.has(C)) byClass.set(C, []);
    byClass.get(C)!.push(name);
  }
  for (const [C, names] of byClass) {
    const short = names[0].slice(names[0].lastIndexOf('.') + 1);
    const aliases = [...names.slice(1), ...(r.has(short) || names.includes(short) ? [] : [short])];
    r.register(names[0], declaredSpec(C, summary(short)), aliases);
  }
}

/** datasets.load_dataset's parameters, in Python's positional order. */
const LOAD_DATASET_PARAMS = ['path', 'name', 'data_dir', 'data_files', 'split', 'cache_dir', 'features', 'download_config', 'download_mode', 'verification_mode', 'keep_in_memory', 'save_infos', 'revision', 'token', 'streaming', 'num_proc', 'storage_options', 'trust_remote_code'];

/**
 * Every `_target_` a config may name: fusion_bench's dotted names, with short class names as aliases.
 * Heavy modules (onnxruntime, parquet) load on first use, so composing and listing stay fast.
 */
export function createBuiltinRegistry(opts: { stdout?: NodeJS.WritableStream } = {}): Registry {
  const r = new Registry();

  const program: TargetSpec = {
    summary: 'merge the model pool with the method, then evaluate on the task pool',
    load: async () => {
      const { FabricModelFusionProgram } = await import('../program/fusion-program.js');
      return (kw, ctx) => new FabricModelFusionProgram(kw as never, r, ctx, opts.stdout);
    },
  };
  r.register('fusion_bench.programs.FabricModelFusionProgram', program, ['FabricModelFusionProgram', 'fusion_bench.programs.fabric_fusion_program.FabricModelFusionProgram']);
  r.register('fusion_bench.programs.ModelFusionProgram', program, ['ModelFusionProgram', 'fusion_bench.programs.fusion_program.ModelFusionProgram']);

  registerTable(r, METHODS as unknown as Readonly<Record<string, Ctor>>, (n) => `merging method ${n}`);
  registerTable(r, MODELPOOLS as unknown as Readonly<Record<string, Ctor>>, (n) => `model pool ${n}`);

  r.register('fusion_bench.taskpool.DummyTaskPool', cls(async () => (await import('../taskpool/dummy.js')).DummyTaskPool, 'no evaluation; reports parameter counts', ['model_save_path']), ['DummyTaskPool', 'fusion_bench.taskpool.dummy.DummyTaskPool']);

  // onnxruntime loads with this module, on first use only
  r.register(
    'fusion_bench.taskpool.CLIPVisionModelTaskPool',
    cls(async () => (await import('../taskpool/clip-vision/index.js')).CLIPVisionModelTaskPool as unknown as Ctor, 'zero-shot CLIP image classification', ['test_datasets']),
    ['CLIPVisionModelTaskPool', 'fusion_bench.taskpool.clip_vision.CLIPVisionModelTaskPool', 'fusion_bench.taskpool.clip_vision.taskpool.CLIPVisionModelTaskPool'],
  );

  // transformers' from_pretrained, as fusion_bench configs write them outside model pools: a repo id or a
  // local folder, loaded lazily as our own model types (never a pickle; see src/modelpool)
  const pretrained = (what: 'vision' | 'clip') => async () => {
    const { CLIPVisionModelPool } = await import('../modelpool/index.js');
    return (kw: Record<string, unknown>) => {
      const spec = kw.pretrained_model_name_or_path;
      if (typeof spec !== 'string') throw new UserError(`from_pretrained needs pretrained_model_name_or_path (a repo id or a folder), got ${JSON.stringify(spec)}`);
      const pool = new CLIPVisionModelPool({ models: { model: spec } });
      return what === 'vision' ? pool.loadModel('model') : pool.loadClipModel('model');
    };
  };
  for (const name of ['CLIPVisionModel', 'AutoModel']) {
    r.register(`transformers.${name}.from_pretrained`, { params: ['pretrained_model_name_or_path'], summary: 'a CLIP vision tower (vision_model.* tensors + config)', load: pretrained('vision') });
  }
  r.register('transformers.CLIPModel.from_pretrained', { params: ['pretrained_model_name_or_path'], summary: 'a full CLIP model (both towers, projections, logit scale)', load: pretrained('clip') });
  r.register('transformers.CLIPProcessor.from_pretrained', {
    params: ['pretrained_model_name_or_path'],
    summary: 'CLIP tokenizer + image processor from a repo id or folder',
    load: async () => {
      const { resolveModelDir } = await import('../modelpool/index.js');
      const { CLIPTokenizer } = await import('../models/clip/tokenizer.js');
      const { CLIPImageProcessor } = await import('../models/clip/image-processor.js');
      return async (kw) => {
        const spec = kw.pretrained_model_name_or_path;
        if (typeof spec !== 'string') throw new UserError(`CLIPProcessor.from_pretrained needs pretrained_model_name_or_path, got ${JSON.stringify(spec)}`);
        const dir = await resolveModelDir(spec);
        return { tokenizer: CLIPTokenizer.fromDir(dir), image_processor: CLIPImageProcessor.fromDir(dir), path: dir };
      };
    },
  });

  // Lightning's experiment loggers (fabric.loggers): metrics as TensorBoard event files or metrics.csv
  const LOGGER_PARAMS = ['root_dir', 'name', 'version', 'sub_dir', 'prefix', 'flush_logs_every_n_steps', 'default_hp_metric'];
  for (const [cls, what] of [['TensorBoardLogger', 'TensorBoard event files'], ['CSVLogger', 'metrics.csv']] as const) {
    r.register(`lightning.fabric.loggers.${cls}`, {
      params: LOGGER_PARAMS,
      summary: `${what} with each task's accuracy and loss`,
      load: async () => {
        const loggers = await import('../report/loggers/experiment-logger.js');
        return (kw) => new loggers[cls](kw);
      },
    }, [cls, `lightning.pytorch.loggers.${cls}`]);
  }

  r.register('datasets.load_dataset', {
    params: LOAD_DATASET_PARAMS,
    summary: 'an image classification dataset from the hub or local parquet files',
    load: async () => {
      const { loadDatasetOptionsFromCall } = await import('../data/load-dataset-call.js');
      const { loadImageClassificationDataset } = await import('../data/load.js');
      return (kw) => loadImageClassificationDataset(loadDatasetOptionsFromCall([], kw));
    },
  });

  r.register('fusion_bench.utils.data.train_validation_split', {
    params: ['dataset', 'validation_fraction', 'validation_size', 'random_seed', 'return_split'],
    acceptsExtra: false,
    summary: 'a seeded train/validation split of a dataset (torch random_split, same rows as fusion_bench)',
    load: async () => {
      const { parseSplitOptions, trainValidationSplit } = await import('../data/train-validation-split.js');
      return (kw, ctx) => trainValidationSplit(kw.dataset as never, parseSplitOptions(kw), undefined, ctx.seed);
    },
  }, ['train_validation_split']);
  return r;
}
