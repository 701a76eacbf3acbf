import { Registry, type TargetSpec } from './registry.js';

type Factory = (kwargs: Record<string, unknown>) => unknown;

/** A class whose constructor takes one keyword object, loaded on first use. */
function cls(load: () => Promise<new (kwargs: Record<string, unknown>) => unknown>, params: string[] = [], summary?: string): TargetSpec {
  return { params, summary, load: async () => { const C = await load(); return (kw) => new C(kw); } };
}

function fn(load: () => Promise<Factory>, params: string[] = [], summary?: string): TargetSpec {
  return { params, summary, load };
}

/**
 * Every `_target_` a config may name: fusion_bench's dotted names (and the short class names as aliases).
 * Modules load lazily, so composing a config imports nothing heavy.
 */
export function createBuiltinRegistry(): Registry {
  const r = new Registry();

  const program: TargetSpec = {
    summary: 'merge the model pool with the method, then evaluate on the task pool',
    load: async () => {
      const { FabricModelFusionProgram } = await import('../program/fusion-program.js');
      return (kw) => new FabricModelFusionProgram(kw as never, r);
    },
  };
  r.register('fusion_bench.programs.FabricModelFusionProgram', program, ['FabricModelFusionProgram', 'fusion_bench.programs.fabric_fusion_program.FabricModelFusionProgram']);
  r.register('fusion_bench.programs.ModelFusionProgram', program, ['ModelFusionProgram']);

  r.register('fusion_bench.taskpool.DummyTaskPool', cls(async () => (await import('../taskpool/dummy.js')).DummyTaskPool, ['model_save_path'], 'no evaluation; reports parameter counts'), ['DummyTaskPool']);

  registerFromIndex(r, 'method');
  registerFromIndex(r, 'modelpool');
  return r;
}

/**
 * Methods and model pools publish `{ 'fusion_bench.method.X': Class }` maps from their index modules;
 * registering them needs the names up front, so the maps are listed here and loaded on first use.
 */
function registerFromIndex(r: Registry, kind: 'method' | 'modelpool'): void {
  const names = kind === 'method' ? METHOD_NAMES : MODELPOOL_NAMES;
  for (const name of names) {
    const spec: TargetSpec = {
      load: async () => {
        const mod = (await (kind === 'method' ? import('../method/index.js') : import('../modelpool/index.js'))) as unknown as Record<string, Record<string, new (kw: Record<string, unknown>) => unknown>>;
        const table = Object.values(mod).find((v) => v && typeof v === 'object' && name in v);
        const C = table?.[name];
        if (!C) throw new Error(`registry: ${name} is listed but ${kind}/index exports no such class`);
        return (kw) => new C(kw);
      },
    };
    const short = name.slice(name.lastIndexOf('.') + 1);
    r.register(name, spec, r.has(short) ? [] : [short]);
  }
}

// Kept in step with src/method/index.ts and src/modelpool/index.ts by test/registry/builtins.test.ts.
export const METHOD_NAMES: readonly string[] = [];
export const MODELPOOL_NAMES: readonly string[] = [];
