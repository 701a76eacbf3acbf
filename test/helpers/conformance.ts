import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import { type ConfigValue, Float, formatFloat, isDict } from '../../src/config/values.js';

/**
 * The comparison ../shared/conformance/hydra/README.md describes ("How to compare stdout with an expected
 * file"): both texts read with OmegaConf's YAML rules, paths and date-times masked, then compared as data
 * (dict key order ignored, lists in order, scalars by type and value), job name `cli` accepted for `app`,
 * empty output read as `{}`.
 */

export interface MaskOptions {
  /** Absolute config dir of the run, replaced by `<CONFIG_DIR>`. */
  configDir?: string;
  /** Absolute working directory of the run, replaced by `<CWD>`. */
  cwd?: string;
}

const DATETIME_RE = /\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/g;

/** Masks one string: paths (the longer first, so a config dir inside the cwd stays a config dir) and date-times. */
export function maskString(s: string, opts: MaskOptions): string {
  const paths: Array<[string, string]> = [];
  if (opts.configDir) paths.push([opts.configDir, '<CONFIG_DIR>']);
  if (opts.cwd) paths.push([opts.cwd, '<CWD>']);
  paths.sort((a, b) => b[0].length - a[0].length);
  let out = s;
  for (const [p, mark] of paths) out = out.split(p).join(mark);
  return out.replace(DATETIME_RE, '<DATETIME>');
}

/** Masks every string of config data, keys included. */
export function maskValue(v: ConfigValue, opts: MaskOptions): ConfigValue {
  if (typeof v === 'string') return maskString(v, opts);
  if (Array.isArray(v)) return v.map((x) => maskValue(x, opts));
  if (isDict(v)) {
    const out: Record<string, ConfigValue> = {};
    for (const k of Object.keys(v)) out[maskString(k, opts)] = maskValue(v[k]!, opts);
    return out;
  }
  return v;
}

/** Reads YAML output as the conformance rules say: OmegaConf's YAML reading, empty text = `{}`. */
export function readConfigText(text: string, source: string): ConfigValue {
  const v = loadYaml(text, source);
  return v === null && text.trim() === '' ? {} : v;
}

function describe(v: ConfigValue | undefined): string {
  if (v === undefined) return '(absent)';
  if (v === null) return 'null';
  if (typeof v === 'string') return `${JSON.stringify(v)} (str)`;
  if (typeof v === 'boolean') return `${v} (bool)`;
  if (typeof v === 'number' || typeof v === 'bigint') return `${v} (int)`;
  if (v instanceof Float) return `${formatFloat(v.value)} (float)`;
  if (Array.isArray(v)) return `list of ${v.length}`;
  return `dict with keys [${Object.keys(v).join(', ')}]`;
}

function sameScalar(actual: ConfigValue, expected: ConfigValue): boolean {
  if (actual instanceof Float || expected instanceof Float) {
    if (!(actual instanceof Float && expected instanceof Float)) return false;
    return Object.is(actual.value, expected.value) || actual.value === expected.value || (Number.isNaN(actual.value) && Number.isNaN(expected.value));
  }
  const isInt = (x: ConfigValue): x is number | bigint => typeof x === 'number' || typeof x === 'bigint';
  if (isInt(actual) || isInt(expected)) return isInt(actual) && isInt(expected) && BigInt(actual) === BigInt(expected);
  if (typeof expected === 'string' && typeof actual === 'string') return actual === expected || (expected === 'app' && actual === 'cli');
  return actual === expected;
}

/** Differences between two config values as `path: expected X, got Y` lines (at most `limit`). */
export function configDifferences(actual: ConfigValue, expected: ConfigValue, limit = 20): string[] {
  const out: string[] = [];
  const walk = (a: ConfigValue | undefined, e: ConfigValue | undefined, path: string): void => {
    if (out.length >= limit) return;
    const where = path === '' ? '(root)' : path;
    if (isDict(e) && isDict(a)) {
      for (const k of Object.keys(e)) walk(Object.prototype.hasOwnProperty.call(a, k) ? a[k] : undefined, e[k], path === '' ? k : `${path}.${k}`);
      for (const k of Object.keys(a)) {
        if (!Object.prototype.hasOwnProperty.call(e, k) && out.length < limit) out.push(`${path === '' ? k : `${path}.${k}`}: unexpected key, got ${describe(a[k])}`);
      }
      return;
    }
    if (Array.isArray(e) && Array.isArray(a)) {
      if (a.length !== e.length) out.push(`${where}: expected a list of ${e.length}, got a list of ${a.length}`);
      for (let i = 0; i < Math.min(a.length, e.length); i++) walk(a[i], e[i], `${path}[${i}]`);
      return;
    }
    if (a === undefined || e === undefined || isDict(a) || isDict(e) || Array.isArray(a) || Array.isArray(e) || !sameScalar(a, e)) {
      out.push(`${where}: expected ${describe(e)}, got ${describe(a)}`);
    }
  };
  walk(actual, expected, '');
  return out;
}

/**
 * Asserts that YAML output (`actualYamlText`, e.g. stdout of `--cfg job`) equals an expected file as data
 * after masking. Fails with the paths of the first differences.
 */
export function assertSameConfig(actualYamlText: string, expectedYamlText: string, opts: MaskOptions = {}): void {
  let actual: ConfigValue;
  try {
    actual = readConfigText(actualYamlText, 'actual output');
  } catch (e) {
    assert.fail(`the output is not YAML that OmegaConf could read: ${(e as Error).message}\n--- output ---\n${actualYamlText}`);
  }
  const expected = readConfigText(expectedYamlText, 'expected file');
  const diffs = configDifferences(maskValue(actual, opts), maskValue(expected, opts));
  if (diffs.length > 0) assert.fail(`config differs from the expectation:\n  ${diffs.join('\n  ')}`);
}

/** An error report (`=== field` sections) as a map: error_class, error_message, cause_class, ... */
export function parseErrorReport(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let field: string | null = null;
  let lines: string[] = [];
  const flush = (): void => {
    if (field !== null) out[field] = lines.join('\n');
  };
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const m = /^=== (\S+)$/.exec(line);
    if (m) {
      flush();
      field = m[1]!;
      lines = [];
    } else lines.push(line);
  }
  flush();
  return out;
}

export interface ConformanceCase {
  id: string;
  dir: string;
  mode: 'compose' | 'parse';
  /** The folder name in cmd.txt (`fusion_bench`, `semantics`, ...), or null. */
  configDir: string | null;
  /** Its absolute path (what `--config-path` gets), or null. */
  configPath: string | null;
  configName: string | null;
  overrides: string[];
  resolve: boolean;
  hydra: boolean;
  env: Record<string, string>;
  description: string;
  /** Text of each `expected*` / `warnings.txt` file present, by file name. */
  files: Record<string, string>;
}

/** Reads `cases/NNN/`: cmd.txt (one `key: <JSON>` a line) and the expected files next to it. */
export function readCase(dir: string): ConformanceCase {
  const cmd: Record<string, unknown> = {};
  for (const line of readFileSync(join(dir, 'cmd.txt'), 'utf8').split('\n')) {
    const m = /^(\w+): (.*)$/.exec(line);
    if (m) cmd[m[1]!] = JSON.parse(m[2]!);
  }
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir)) if (f !== 'cmd.txt') files[f] = readFileSync(join(dir, f), 'utf8');
  const configDir = (cmd.config_dir as string | null | undefined) ?? null;
  const configPath = configDir === null ? null : resolve(dir, '..', '..', configDir);
  return {
    id: dir.replace(/\/+$/, '').split('/').pop()!,
    dir,
    mode: cmd.mode as 'compose' | 'parse',
    configDir,
    configPath: configPath !== null && existsSync(configPath) ? configPath : configPath,
    configName: (cmd.config_name as string | null | undefined) ?? null,
    overrides: (cmd.overrides as string[] | undefined) ?? [],
    resolve: cmd.resolve === true,
    hydra: cmd.hydra === true,
    env: (cmd.env as Record<string, string> | undefined) ?? {},
    description: (cmd.description as string | undefined) ?? '',
    files,
  };
}

/** All case folders under `casesDir`, in order. */
/**
 * The case folders, sorted; none when the folder is missing, so that a suite's count check (see
 * assertCaseCount) reports it instead of the file failing to load.
 */
export function listCases(casesDir: string): string[] {
  if (!existsSync(casesDir)) return [];
  return readdirSync(casesDir)
    .filter((d) => /^\d+$/.test(d))
    .sort()
    .map((d) => join(casesDir, d));
}

/**
 * ../shared is there, so its cases must be: a suite that ran none (or far fewer than recorded) would
 * pass without checking anything. `min` is a little below the number of cases of that kind today.
 */
export function assertCaseCount(what: string, n: number, min: number): void {
  assert.ok(n >= min, `${what}: ${n} cases found, expected at least ${min} (is ../shared/conformance/hydra complete?)`);
}

export interface BulkRecord {
  config_dir: string;
  config_name: string;
  overrides: string[];
  unresolved: string | null;
  resolved: string | null;
  error: string | null;
  resolve_error: string | null;
  choices: string;
}

/** The bulk corpus, one record a line. */
export function readBulk(path: string): BulkRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as BulkRecord);
}
