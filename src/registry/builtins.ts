import { Registry, type TargetSpec } from './registry.js';
import { METHODS } from '../method/index.js';
import { MODELPOOLS } from '../modelpool/index.js';

type Ctor = new (kwargs: Record<string, unknown>) => unknown;

/** A class whose constructor takes one keyword object, as every class of this library does. */
function cls(load: () => Promise<Ctor> | Ctor, summary?: string, params: string[] = []): TargetSpec {
  return { params, summary, load: async () => { const C = await load(); return (kw) => new C(kw); } };
}

/**
 * Registers a table `{ 'fusion_bench.x.Name': Class }`: the first name of each class is its canonical
 * name, the others (module paths) and the bare class name are aliases.
 */
function registerTable(r: Registry, table: Readonly<Record<string, Ctor>>, summary: (name: string) => string): void {
  const byClass = new Map<Ctor, string[]>();
  for (const [name, C] of Object.entries(table)) {
    if (!byClass.has(C)) byClass.set(C, []);
    byClass.get(C)!.push(name);
  }
  for (const [C, names] of byClass) {
    const short = names[0].slice(names[0].lastIndexOf('.') + 1);
    const aliases = [...names.slice(1), ...(r.has(short) || names.includes(short) ? [] : [short])];
    r.register(names[0], cls(() => C, summary(short)), aliases);
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
      return (kw) => new FabricModelFusionProgram(kw as never, r, opts.stdout);
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
      return (kw) => trainValidationSplit(kw.dataset as never, parseSplitOptions(kw));
    },
  }, ['train_validation_split']);
  return r;
}
