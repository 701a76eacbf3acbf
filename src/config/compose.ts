import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ConfigDict, type ConfigValue, isDict } from './values.js';
import { loadYaml } from './omegaconf/yaml.js';
import { mergeInto } from './omegaconf/merge.js';
import { selectPath, setPath, deletePath } from './omegaconf/path.js';
import { splitKey } from './omegaconf/keys.js';
import { OmegaConfError } from './omegaconf/errors.js';
import { pyStr } from './omegaconf/pystr.js';
import { ConfigFileCache, ConfigRepository } from './repository.js';
import { buildSearchPath, type SearchPathEntry } from './search-path.js';
import { createDefaultsList, type ResultDefault, type TreeNode } from './defaults/build.js';
import type { OverrideLike } from './defaults/overrides-state.js';
import { ConfigCompositionError, HydraError, MissingConfigError } from './hydra-errors.js';
import { coerceHydraTypes, fillHydraNode } from './hydra-node.js';
import { parseOverrideStrings } from './parse-overrides.js';

export type RunMode = 'RUN' | 'MULTIRUN';

export interface ComposeOptions {
  /** The primary config directory (`--config-path`); null for none. */
  configPath: string | null;
  /** The primary config (`--config-name`), may contain folders; null for none. */
  configName: string | null;
  /** Extra config directories (`--config-dir`), searched after the primary one. */
  configDirs?: readonly string[];
  /** Command-line overrides: argv strings, or already parsed. */
  overrides: readonly string[] | readonly OverrideLike[];
  runMode: RunMode;
  /** Build Hydra's own `hydra` node (default true); false composes only the app's defaults. */
  withHydra?: boolean;
  /** hydra.runtime.cwd (default: process.cwd()). */
  cwd?: string;
  /** hydra.job.name when the config does not set it (default 'cli', the fusion_bench script's name). */
  jobName?: string;
  /** Environment for hydra.job.env_copy (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Parsed files and folder listings to reuse across compositions (a sweep); by default nothing is kept. */
  cache?: ConfigFileCache;
  /** Word the "Ambiguous value" hint for a shell (`key=\'a,b\'`), as Hydra's command line does. */
  fromShell?: boolean;
}

export interface ComposeResult {
  /** The composed config, unresolved, with the `hydra` node (unless withHydra is false). */
  config: ConfigDict;
  /** The defaults list in merge order. */
  defaults: ResultDefault[];
  /** hydra.runtime.choices. */
  choices: Record<string, string | null>;
  /** Warnings Hydra would print (missing `_self_`, unavailable search path entries). */
  warnings: string[];
  /** The defaults tree (render it with renderDefaultsTree for `--info defaults-tree`). */
  tree: TreeNode;
  /** The parsed command-line overrides. */
  overrides: OverrideLike[];
  /** The search path the composition used (after hydra.searchpath). */
  searchPath: SearchPathEntry[];
  repository: ConfigRepository;
}

/**
 * Composes a config like Hydra 1.3.2's ConfigLoaderImpl.load_configuration: search path (with
 * hydra.searchpath), sweep checks, defaults list, merge of each default at its package, struct mode,
 * command-line value overrides, then the runtime fields of the `hydra` node.
 */
export function composeConfig(opts: ComposeOptions): ComposeResult {
  try {
    return composeImpl(opts);
  } catch (e) {
    // Hydra wraps stray OmegaConf errors; a YAML syntax error (PyYAML's, not OmegaConf's) passes through.
    if (e instanceof OmegaConfError && e.omegaconfClass !== 'yaml.YAMLError') throw new ConfigCompositionError('', { cause: e });
    throw e;
  }
}

function composeImpl(opts: ComposeOptions): ComposeResult {
  const withHydra = opts.withHydra ?? true;
  const warnings: string[] = [];
  for (const d of opts.configDirs ?? []) {
    const abs = resolve(d);
    if (!isDirectory(abs)) throw new HydraError('hydra.errors.SearchPathException', `Additional config directory '${abs}' not found`);
  }
  let searchPath = buildSearchPath(opts.configPath, opts.configDirs ?? []);
  const repo = new ConfigRepository(searchPath, loadYaml, opts.cache ?? null);
  ensureMainSourceAvailable(repo);

  const parsed = parseOverrideStrings(opts.overrides);
  searchPath = processSearchPath(repo, searchPath, opts.configName, parsed, warnings);
  validateSweepOverrides(parsed, opts.runMode, opts.fromShell ?? false);

  const dl = createDefaultsList(repo, opts.configName, parsed, {
    withHydra,
    skipMissing: opts.runMode === 'MULTIRUN',
    env: opts.env ?? process.env,
  });
  warnings.push(...dl.warnings);

  const cfg = composeFromDefaults(dl.defaults, repo);
  applyOverrides(dl.configOverrides, cfg);

  const choices: Record<string, string | null> = {};
  for (const [k, v] of dl.choices) choices[k] = v;

  if (withHydra && isDict(cfg.hydra)) {
    coerceHydraTypes(cfg.hydra);
    fillHydraNode(cfg.hydra, {
      overrides: parsed,
      choices: dl.choices,
      sources: repo.sources,
      configName: opts.configName,
      cwd: opts.cwd ?? process.cwd(),
      jobName: opts.jobName ?? 'cli',
      env: opts.env ?? process.env,
    });
  }
  return { config: cfg, defaults: dl.defaults, choices, warnings, tree: dl.tree, overrides: parsed, searchPath, repository: repo };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function ensureMainSourceAvailable(repo: ConfigRepository): void {
  for (const source of repo.sources) {
    if (source.provider !== 'main' || source.available()) continue;
    let msg: string;
    if (source.scheme === 'pkg') {
      msg =
        source.path === ''
          ? 'Primary config module is empty.\nPython requires resources to be in a module with an __init__.py file'
          : `Primary config module '${source.path}' not found.\nCheck that it's correct and contains an __init__.py file`;
    } else {
      msg = `Primary config directory not found.\nCheck that the config directory '${source.path}' exists and readable`;
    }
    throw new MissingConfigError(msg, null);
  }
}

/** Applies `hydra.searchpath` (from the command line, else from the primary config) to the repository. */
function processSearchPath(
  repo: ConfigRepository,
  searchPath: SearchPathEntry[],
  configName: string | null,
  overrides: readonly OverrideLike[],
  warnings: string[],
): SearchPathEntry[] {
  let primary: ConfigValue = {};
  if (configName !== null) {
    const loaded = repo.loadConfig(configName);
    if (loaded !== null) primary = loaded.config;
  }
  if (!isDict(primary)) {
    throw new ConfigCompositionError(`primary config '${configName}' must be a DictConfig, got ${Array.isArray(primary) ? 'ListConfig' : typeof primary}`);
  }
  let sp: ConfigValue | undefined = selectPath(primary, 'hydra.searchpath');
  let provider = 'hydra.searchpath in main';
  const cli = overrides.find((o) => o.type === 'CHANGE' && o.package === null && o.keyOrGroup === 'hydra.searchpath');
  if (cli !== undefined) {
    sp = cli.convertedValue() as ConfigValue;
    provider = 'hydra.searchpath in command-line';
  }
  if (sp === undefined || sp === null) return searchPath;
  if (!Array.isArray(sp) || sp.some((v) => typeof v !== 'string')) {
    throw new ConfigCompositionError(`hydra.searchpath must be a list of strings. Got: ${pyStr(sp)}`);
  }
  const next = searchPath.filter((e) => e.provider !== 'schema');
  for (const p of sp as string[]) next.push({ provider, path: p });
  next.push({ provider: 'schema', path: 'structured://' });
  repo.initializeSources(next);
  for (const s of repo.sources) {
    if (!s.available()) warnings.push(`provider=${s.provider}, path=${s.path} is not available.`);
  }
  return next;
}

function validateSweepOverrides(overrides: readonly OverrideLike[], runMode: RunMode, fromShell: boolean): void {
  for (const x of overrides) {
    if (!x.isSweep()) continue;
    if (runMode === 'MULTIRUN') {
      if (x.isHydraOverride()) {
        throw new ConfigCompositionError(`Sweeping over Hydra's configuration is not supported : '${x.input}'`);
      }
    } else if (x.valueType === 'SIMPLE_CHOICE_SWEEP') {
      const example = fromShell ? "key=\\'value1,value2\\'" : "key='value1,value2'";
      throw new ConfigCompositionError(
        `Ambiguous value for argument '${x.input}'\n` +
          '1. To use it as a list, use key=[value1,value2]\n' +
          `2. To use it as string, quote the value: ${example}\n` +
          '3. To sweep over it, add --multirun to your command line',
      );
    } else {
      throw new ConfigCompositionError(`Sweep parameters '${x.input}' requires --multirun`);
    }
  }
}

/** Merges every default's config at its package, in order (Hydra's _compose_config_from_defaults_list). */
function composeFromDefaults(defaults: readonly ResultDefault[], repo: ConfigRepository): ConfigDict {
  const cfg: ConfigDict = {};
  for (const d of defaults) {
    const loaded = repo.loadConfig(d.configPath);
    if (loaded === null) throw new MissingConfigError(`Could not load '${d.configPath}'`, d.configPath);
    const embedded = embedAtPackage(loaded.config, d.package);
    if (!d.primary && d.configPath !== 'hydra/config') {
      const sp = isDict(embedded) ? selectPath(embedded, 'hydra.searchpath') : undefined;
      if (sp !== undefined && sp !== null) {
        throw new ConfigCompositionError(`In '${d.configPath}': Overriding hydra.searchpath is only supported from the primary config`);
      }
    }
    try {
      mergeInto(cfg, embedded);
    } catch (e) {
      if (e instanceof OmegaConfError) {
        throw new ConfigCompositionError(`In '${d.configPath}': ${e.className} raised while composing config:\n${e.message}`, { cause: e });
      }
      throw e;
    }
  }
  return cfg;
}

/** `OmegaConf.update(empty, package, config, merge=False)`: nests the config under the package's keys. */
function embedAtPackage(config: ConfigValue, pkg: string): ConfigValue {
  if (pkg === '') return config;
  let out: ConfigValue = config;
  const keys = splitKey(pkg);
  for (let i = keys.length - 1; i >= 0; i--) {
    const wrap: ConfigDict = {};
    Object.defineProperty(wrap, keys[i], { value: out, enumerable: true, writable: true, configurable: true });
    out = wrap;
  }
  return out;
}

/** Levels of a dotted override key (`a.b.c` has 3); configs stay far below this. */
export const MAX_OVERRIDE_KEY_DEPTH = 100;

function clipText(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

/** Applies the value overrides to the composed config in struct mode (Hydra's _apply_overrides_to_config). */
export function applyOverrides(overrides: readonly OverrideLike[], cfg: ConfigDict): void {
  for (const o of overrides) {
    if (o.package !== null) {
      throw new ConfigCompositionError(
        `Override ${o.input} looks like a config group override, but config group '${o.keyOrGroup}' does not exist.`,
      );
    }
    const key = o.keyOrGroup;
    const depth = splitKey(key).length;
    if (depth > MAX_OVERRIDE_KEY_DEPTH) {
      throw new ConfigCompositionError(`Override '${clipText(o.input)}': the key has ${depth} levels; at most ${MAX_OVERRIDE_KEY_DEPTH} are supported`);
    }
    const value = o.convertedValue() as ConfigValue;
    try {
      if (o.type === 'DEL') {
        const current = selectForOverride(cfg, key);
        if (current === null) {
          throw new ConfigCompositionError(`Could not delete from config. '${key}' does not exist.`);
        }
        if (value !== null && value !== undefined && !pyEquals(value, current)) {
          throw new ConfigCompositionError(`Could not delete from config. The value of '${key}' is ${pyStr(current)} and not ${pyStr(value)}.`);
        }
        deletePath(cfg, key);
      } else if (o.type === 'ADD') {
        if (selectForOverride(cfg, key) === null || isDict(value) || Array.isArray(value)) {
          setPath(cfg, key, value, { struct: true, forceAdd: true });
        } else {
          throw new ConfigCompositionError(
            `Could not append to config. An item is already at '${key}'.\n` +
              `Either remove + prefix: '${o.input.slice(1)}'\n` +
              `Or add a second + to add or override '${key}': '+${o.input}'\n`,
          );
        }
      } else if (o.type === 'FORCE_ADD') {
        setPath(cfg, key, value, { struct: true, forceAdd: true });
      } else {
        try {
          setPath(cfg, key, value, { struct: true });
        } catch (e) {
          if (e instanceof OmegaConfError && (e.className === 'ConfigAttributeError' || e.className === 'ConfigKeyError')) {
            throw new ConfigCompositionError(`Could not override '${key}'.\nTo append to your config use +${o.input}`, { cause: e });
          }
          throw e;
        }
      }
    } catch (e) {
      if (e instanceof OmegaConfError) throw new ConfigCompositionError(`Error merging override ${o.input}`, { cause: e });
      throw e;
    }
  }
}

/** `OmegaConf.select(cfg, key, throw_on_missing=False)` without resolving: null for absent, null and `???`. */
function selectForOverride(cfg: ConfigDict, key: string): ConfigValue {
  let v: ConfigValue | undefined;
  try {
    v = selectPath(cfg, key);
  } catch {
    v = undefined;
  }
  if (v === undefined || v === '???') return null;
  return v;
}

/** Python's `==` between config values (1 == 1.0 == True). */
function pyEquals(a: ConfigValue, b: ConfigValue): boolean {
  const num = (x: ConfigValue): number | null =>
    typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : typeof x === 'boolean' ? (x ? 1 : 0) : x !== null && typeof x === 'object' && 'value' in x && !Array.isArray(x) && !isDict(x) ? (x as { value: number }).value : null;
  const na = num(a);
  const nb = num(b);
  if (na !== null || nb !== null) return na !== null && nb !== null && na === nb;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  }
  if (isDict(a) || isDict(b)) {
    if (!isDict(a) || !isDict(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && pyEquals(a[k], b[k]));
  }
  return a === b;
}
