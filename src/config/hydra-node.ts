import { type ConfigDict, type ConfigValue, isDict } from './values.js';
import { setOwn } from './omegaconf/yaml.js';
import type { ConfigSource } from './repository.js';
import type { OverrideLike } from './defaults/overrides-state.js';
import { HydraError } from './hydra-errors.js';

export const HYDRA_VERSION = '1.3.2';
export const HYDRA_VERSION_BASE = '1.3';

export interface HydraRuntimeInfo {
  overrides: readonly OverrideLike[];
  choices: ReadonlyMap<string, string | null>;
  sources: readonly ConfigSource[];
  configName: string | null;
  cwd: string;
  jobName: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Fills the runtime part of the composed `hydra` node, as the tail of Hydra's load_configuration does:
 * the override lists, choices, env_copy, version, cwd, config sources, job name, override_dirname and
 * config_name.
 */
export function fillHydraNode(hydra: ConfigDict, info: HydraRuntimeInfo): void {
  const overridesNode = dictAt(hydra, 'overrides');
  const hydraList = listAt(overridesNode, 'hydra');
  const taskList = listAt(overridesNode, 'task');
  const appOverrides: OverrideLike[] = [];
  for (const o of info.overrides) {
    if (o.isHydraOverride()) hydraList.push(o.input);
    else {
      taskList.push(o.input);
      appOverrides.push(o);
    }
  }

  const runtime = dictAt(hydra, 'runtime');
  const choices = dictAt(runtime, 'choices');
  for (const [k, v] of info.choices) setOwn(choices, k, v);

  const job = dictAt(hydra, 'job');
  const envCopy = job.env_copy;
  if (Array.isArray(envCopy) && envCopy.length > 0) {
    const envSet = dictAt(job, 'env_set');
    for (const key of envCopy) {
      const k = String(key);
      const v = info.env[k];
      if (v === undefined) throw new HydraError('KeyError', `'${k}'`);
      setOwn(envSet, k, v);
    }
  }

  runtime.version = HYDRA_VERSION;
  runtime.version_base = HYDRA_VERSION_BASE;
  runtime.cwd = info.cwd;
  runtime.config_sources = info.sources.map((s) => ({ path: s.path, schema: s.scheme, provider: s.provider }));

  if (!('name' in job) || job.name === '???') job.name = info.jobName;

  const od = isDict(job.config) && isDict(job.config.override_dirname) ? job.config.override_dirname : {};
  job.override_dirname = overridesDirname(
    appOverrides,
    Array.isArray(od.exclude_keys) ? od.exclude_keys.map(String) : [],
    typeof od.item_sep === 'string' ? od.item_sep : ',',
    typeof od.kv_sep === 'string' ? od.kv_sep : '=',
  );
  job.config_name = info.configName;
}

/** `hydra.job.override_dirname`: the task overrides, sorted, joined by item_sep, with '=' replaced by kv_sep. */
export function overridesDirname(overrides: readonly OverrideLike[], excludeKeys: readonly string[], itemSep: string, kvSep: string): string {
  const lines = overrides.filter((o) => !excludeKeys.includes(o.keyOrGroup)).map((o) => o.input);
  lines.sort();
  return lines.join(itemSep).replaceAll('=', kvSep);
}

function dictAt(parent: ConfigDict, key: string): ConfigDict {
  const v = parent[key];
  if (isDict(v)) return v;
  const d: ConfigDict = {};
  setOwn(parent, key, d);
  return d;
}

function listAt(parent: ConfigDict, key: string): ConfigValue[] {
  const v = parent[key];
  if (Array.isArray(v)) return v;
  const l: ConfigValue[] = [];
  setOwn(parent, key, l);
  return l;
}

type FieldType = 'str' | 'bool' | 'int';

/** The typed scalar fields of Hydra's HydraConf dataclass (hydra/conf/__init__.py) that values are coerced to. */
const HYDRA_FIELD_TYPES: ReadonlyArray<[string, FieldType]> = [
  ['run.dir', 'str'],
  ['sweep.dir', 'str'],
  ['sweep.subdir', 'str'],
  ['help.app_name', 'str'],
  ['help.header', 'str'],
  ['help.footer', 'str'],
  ['help.template', 'str'],
  ['hydra_help.hydra_help', 'str'],
  ['hydra_help.template', 'str'],
  ['output_subdir', 'str'],
  ['job.name', 'str'],
  ['job.chdir', 'bool'],
  ['job.override_dirname', 'str'],
  ['job.id', 'str'],
  ['job.num', 'int'],
  ['job.config_name', 'str'],
  ['job.config.override_dirname.kv_sep', 'str'],
  ['job.config.override_dirname.item_sep', 'str'],
  ['runtime.version', 'str'],
  ['runtime.version_base', 'str'],
  ['runtime.cwd', 'str'],
  ['runtime.output_dir', 'str'],
];

const TRUE_WORDS = new Set(['y', 'yes', 'on', 'true', '1']);
const FALSE_WORDS = new Set(['n', 'no', 'off', 'false', '0']);

/**
 * Coerces values in the `hydra` node to the types HydraConf declares, as OmegaConf's typed nodes do on
 * assignment: `hydra.job.name=123` is the string '123', `hydra.job.chdir=yes` is true. Interpolations, `???`
 * and null stay as they are; values that do not convert are left for later checks.
 */
export function coerceHydraTypes(hydra: ConfigDict): void {
  for (const [path, type] of HYDRA_FIELD_TYPES) {
    const keys = path.split('.');
    let node: ConfigValue = hydra;
    for (const k of keys.slice(0, -1)) node = isDict(node) ? (node[k] ?? null) : null;
    if (!isDict(node)) continue;
    const last = keys[keys.length - 1]!;
    if (!(last in node)) continue;
    const v = node[last]!;
    if (v === null || v === '???' || (typeof v === 'string' && v.includes('${'))) continue;
    if (type === 'str' && typeof v !== 'string' && !isDict(v) && !Array.isArray(v)) node[last] = pyScalarStr(v);
    else if (type === 'bool' && typeof v === 'string') {
      const w = v.toLowerCase();
      if (TRUE_WORDS.has(w)) node[last] = true;
      else if (FALSE_WORDS.has(w)) node[last] = false;
    } else if (type === 'bool' && (typeof v === 'number' || typeof v === 'bigint')) node[last] = Number(v) !== 0;
    else if (type === 'int' && typeof v === 'string' && /^[-+]?\d+$/.test(v.trim())) node[last] = Number.parseInt(v.trim(), 10);
  }
  // Dict[str, str] and List[str] fields: scalar elements become strings.
  const job = isDict(hydra.job) ? hydra.job : null;
  const od = job !== null && isDict(job.config) && isDict(job.config.override_dirname) ? job.config.override_dirname : null;
  if (job !== null && isDict(job.env_set)) for (const k of Object.keys(job.env_set)) job.env_set[k] = strElement(job.env_set[k]!);
  for (const [parent, key] of [[hydra, 'searchpath'], [job, 'env_copy'], [od, 'exclude_keys']] as const) {
    const list = parent?.[key];
    if (Array.isArray(list)) for (let i = 0; i < list.length; i++) list[i] = strElement(list[i]!);
  }
}

function strElement(v: ConfigValue): ConfigValue {
  if (v === null || typeof v === 'string' || isDict(v) || Array.isArray(v)) return v;
  return pyScalarStr(v);
}

function pyScalarStr(v: ConfigValue): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}
