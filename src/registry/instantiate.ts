import { UserError } from '../errors.js';
import { Float } from '../config/values.js';
import type { Registry, TargetFactory, TargetSpec } from './registry.js';
import { runContext, type RunContext } from '../run-context.js';

const SPECIAL = new Set(['_target_', '_args_', '_recursive_', '_partial_', '_convert_']);
const CONVERT_MODES = new Set(['none', 'partial', 'object', 'all']);

export class InstantiationError extends UserError {
  override name = 'InstantiationError';
}

type Plain = Record<string, unknown>;

function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Float) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Float boxes become numbers: library code sees plain JavaScript. */
function plainScalar(v: unknown): unknown {
  return v instanceof Float ? v.value : typeof v === 'bigint' ? Number(v) : v;
}

function copyPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyPlain);
  if (isPlainObject(v)) {
    const out: Plain = {};
    for (const k of Object.keys(v)) out[k] = copyPlain(v[k]);
    return out;
  }
  return plainScalar(v);
}

function flag(node: Plain, key: string, dflt: boolean, path: string): boolean {
  const v = plainScalar(node[key]);
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new InstantiationError(`${key} must be true or false, got ${JSON.stringify(v)} (at ${path || '<root>'})`);
  return v;
}

/**
 * Hydra's `instantiate` over resolved config data, with targets looked up in our registry only.
 *
 * `_recursive_` (default true) instantiates nested `_target_` nodes first, depth first, lists included;
 * `_args_` binds to the target's declared parameter names; `_partial_` returns a function taking the
 * remaining keyword arguments. `_convert_` is validated and otherwise moot: Python distinguishes
 * DictConfig from dict, while here every target receives plain objects, which is what `_convert_: all`
 * gives in Python. Every factory receives `ctx`, the run's context (seed, status stream, sweep cache).
 */
export interface InstantiateHooks {
  /** Called before each target is called (fusion_bench's `print_function_call`). */
  onCall?(target: string, kwargs: Plain, partial: boolean): void;
}

export async function instantiate(registry: Registry, config: unknown, overrides: Plain = {}, path = '', ctx: RunContext = runContext(), hooks: InstantiateHooks = {}): Promise<unknown> {
  if (Array.isArray(config)) {
    const out: unknown[] = [];
    for (let i = 0; i < config.length; i++) out.push(await instantiate(registry, config[i], {}, `${path}[${i}]`, ctx, hooks));
    return out;
  }
  if (!isPlainObject(config)) return plainScalar(config);

  const node: Plain = { ...config, ...overrides };
  const recursive = flag(node, '_recursive_', true, path);
  const partial = flag(node, '_partial_', false, path);
  const convert = plainScalar(node._convert_);
  if (convert !== undefined && convert !== null && !(typeof convert === 'string' && CONVERT_MODES.has(convert))) {
    throw new InstantiationError(`_convert_ must be one of none, partial, object, all; got ${JSON.stringify(convert)} (at ${path || '<root>'})`);
  }

  const kwargs: Plain = {};
  for (const k of Object.keys(node)) {
    if (SPECIAL.has(k)) continue;
    const child = node[k];
    const childPath = path ? `${path}.${k}` : k;
    kwargs[k] = recursive ? await instantiate(registry, child, {}, childPath, ctx, hooks) : copyPlain(child);
  }

  const target = node._target_;
  if (target === undefined) return kwargs; // a plain dict: its children were instantiated
  if (typeof target !== 'string') {
    throw new InstantiationError(`_target_ must be a string naming a registered target, got ${JSON.stringify(plainScalar(target))} (at ${path || '<root>'})`);
  }

  let args: unknown[] = [];
  const rawArgs = node._args_;
  if (rawArgs !== undefined && rawArgs !== null) {
    if (!Array.isArray(rawArgs)) throw new InstantiationError(`_args_ must be a list (at ${path || '<root>'}._args_)`);
    args = recursive ? ((await instantiate(registry, rawArgs, {}, `${path}._args_`, ctx, hooks)) as unknown[]) : rawArgs.map(copyPlain);
  }

  const spec = registry.get(target, path || undefined);
  const bound = bindArguments(target, spec, args, kwargs, path);
  const factory = await spec.load();
  hooks.onCall?.(target, bound, partial);
  if (partial) {
    return (more: Plain = {}) => callTarget(target, factory, { ...bound, ...more }, path, ctx);
  }
  return callTarget(target, factory, bound, path, ctx);
}

/** Python's argument binding: positional values fill the declared parameters in order. */
export function bindArguments(target: string, spec: TargetSpec, args: unknown[], kwargs: Plain, path = ''): Plain {
  const params = spec.params ?? [];
  const at = path ? ` (at ${path})` : '';
  if (args.length > params.length) {
    throw new InstantiationError(`Error in call to target '${target}'${at}:\nit takes at most ${params.length} positional argument(s) but ${args.length} were given`);
  }
  const out: Plain = { ...kwargs };
  args.forEach((a, i) => {
    const name = params[i];
    if (name in kwargs) {
      throw new InstantiationError(`Error in call to target '${target}'${at}:\ngot multiple values for argument '${name}'`);
    }
    out[name] = a;
  });
  if (spec.acceptsExtra === false) {
    const extra = Object.keys(out).filter((k) => !params.includes(k));
    if (extra.length) {
      throw new InstantiationError(
        `Error in call to target '${target}'${at}:\nunexpected keyword argument(s) ${extra.map((e) => `'${e}'`).join(', ')}; it takes ${params.filter((p) => !/^_.+_$/.test(p)).map((p) => `'${p}'`).join(', ') || 'no arguments'}`,
      );
    }
  }
  return out;
}

async function callTarget(target: string, factory: TargetFactory, kwargs: Plain, path: string, ctx: RunContext): Promise<unknown> {
  try {
    return await factory(kwargs, ctx);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const at = path ? ` (at ${path})` : '';
    throw new InstantiationError(`Error in call to target '${target}'${at}:\n${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}
