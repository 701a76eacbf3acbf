/**
 * Which files make up a split, the way `datasets.load_dataset` decides: the `configs` of a dataset card
 * (README.md front matter) when present, else datasets' default patterns (`data/{split}-NNNNN-of-NNNNN`,
 * split-named directories, split-named files). Pure functions over a list of repo-relative paths.
 */
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { checkYamlDepth } from '../config/omegaconf/yaml.js';
import { own, putOwn } from '../util/own.js';

/** `data_files` as datasets accepts it: a pattern, a list of patterns, or patterns by split. */
export type DataFilesSpec = string | string[] | Record<string, string | string[]>;

export interface CardConfig {
  configName: string;
  dataFiles: Record<string, string[]>;
  dataDir?: string;
  isDefault: boolean;
}

export interface DatasetCard {
  configs: CardConfig[];
  /** Class names of the `label` feature (by config name; '' when the card has a single dataset_info). */
  labelNames: Map<string, string[]>;
}

type GlobToken =
  | { kind: 'char'; test: (c: string) => boolean }
  | { kind: 'star' } // `*`: any run without `/`
  | { kind: 'globstar' } // `**`: any run
  | { kind: 'dirs' }; // `**/`: nothing, or any run ending with `/`

/** A compiled glob; `test` has RegExp's shape. */
export interface GlobMatcher {
  test(path: string): boolean;
}

/**
 * fsspec-style glob over `/`-separated relative paths: `**` crosses directories, `*` and `?` do not,
 * `[...]` / `[!...]` are character classes. Matched by a state-set simulation in time proportional to
 * pattern × path, so no pattern backtracks exponentially (a RegExp of `*a*a*a…` would). `what` names
 * where the pattern came from in errors.
 */
export function globToRegExp(pattern: string, what = 'data_files'): GlobMatcher {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          tokens.push({ kind: 'dirs' });
        } else tokens.push({ kind: 'globstar' });
      } else tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'char', test: (x) => x !== '/' });
    else if (c === '[' && pattern.indexOf(']', i + 1) >= 0) {
      const end = pattern.indexOf(']', i + 1);
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      let cls: RegExp;
      try {
        cls = new RegExp('^[' + body.replace(/\\/g, '\\\\') + ']$', 'u');
      } catch {
        throw new UserError(`${what}: pattern '${pattern}' has an invalid character class [${pattern.slice(i + 1, end)}]`);
      }
      tokens.push({ kind: 'char', test: (x) => cls.test(x) });
      i = end;
    } else tokens.push({ kind: 'char', test: (x) => x === c });
  }
  return { test: (path: string) => globMatch(tokens, path) };
}

function globMatch(tokens: readonly GlobToken[], path: string): boolean {
  const m = tokens.length;
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  // Entering a state that can match nothing also enters the one after it (1 = entered, 2 = a `**/`
  // state kept by its own loop, which does not reach past it).
  const enter = (set: Uint8Array, i: number): void => {
    while (i <= m && set[i] !== 1) {
      set[i] = 1;
      const t = tokens[i];
      if (t === undefined || t.kind === 'char') return;
      i++;
    }
  };
  enter(cur, 0);
  for (const c of path) {
    next.fill(0);
    let any = false;
    for (let i = 0; i < m; i++) {
      if (!cur[i]) continue;
      const t = tokens[i]!;
      if (t.kind === 'char') {
        if (t.test(c)) enter(next, i + 1);
      } else if (t.kind === 'globstar' || (t.kind === 'star' && c !== '/')) enter(next, i);
      else if (t.kind === 'dirs') {
        // Stays inside the directories; only a `/` lets the rest of the pattern start.
        if (!next[i]) next[i] = 2;
        if (c === '/') enter(next, i + 1);
      }
    }
    for (let i = 0; i <= m; i++) any ||= next[i] !== 0;
    if (!any) return false;
    [cur, next] = [next, cur];
  }
  return cur[m] !== 0;
}

export function matchFiles(files: readonly string[], patterns: readonly string[]): string[] {
  const res = patterns.map((p) => globToRegExp(p.replace(/^\.\//, '')));
  return files.filter((f) => res.some((r) => r.test(f))).sort();
}

/** datasets ignores hidden files and folders and those starting with "_" or "." (e.g. _SUCCESS, .gitattributes). */
function isDataCandidate(path: string): boolean {
  return !path.split('/').some((part) => part.startsWith('.') || part.startsWith('_'));
}

const SPLIT_KEYWORDS: Record<string, string[]> = {
  train: ['train', 'training'],
  validation: ['validation', 'valid', 'dev', 'val'],
  test: ['test', 'testing', 'eval', 'evaluation'],
};
const SEP = '-._ 0-9';

function keywordPatterns(split: string, inDirName: boolean): string[] {
  return (own(SPLIT_KEYWORDS, split) ?? []).flatMap((k) =>
    inDirName ? [`${k}/**`, `**[${SEP}/]${k}/**`] : [`**[${SEP}/]${k}[${SEP}]*`, `${k}[${SEP}]*`],
  );
}

/**
 * datasets' `get_data_patterns` without a card: sharded `data/{split}-…` names first (any split name),
 * then split-named directories, then split-named files, then everything as "train".
 * Returns the files of each split found.
 */
export function inferSplits(files: readonly string[]): Map<string, string[]> {
  const candidates = files.filter(isDataCandidate);
  const sharded = /^data\/([\w]+?)-\d{5}-of-\d{5}[^/]*\.[^/]+$/;
  const bySplit = new Map<string, string[]>();
  for (const f of candidates) {
    const m = sharded.exec(f);
    if (m) bySplit.set(m[1]!, [...(bySplit.get(m[1]!) ?? []), f]);
  }
  if (bySplit.size > 0) return bySplit;
  for (const inDir of [true, false]) {
    for (const split of Object.keys(SPLIT_KEYWORDS)) {
      const found = matchFiles(candidates, keywordPatterns(split, inDir));
      if (found.length > 0) bySplit.set(split, found);
    }
    if (bySplit.size > 0) return bySplit;
  }
  if (candidates.length > 0) bySplit.set('train', [...candidates].sort());
  return bySplit;
}

/** Normalises a `data_files` spec into patterns by split (a bare pattern or list means split "train"). */
export function dataFilesBySplit(spec: DataFilesSpec, what: string): Record<string, string[]> {
  if (typeof spec === 'string') return { train: [spec] };
  if (Array.isArray(spec)) {
    if (!spec.every((s) => typeof s === 'string')) throw new UserError(`${what}: data_files must be strings`);
    return { train: spec };
  }
  if (spec && typeof spec === 'object') {
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(spec)) {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw new UserError(`${what}: data_files.${k} must be a path or a list of paths`);
      putOwn(out, k, list);
    }
    return out;
  }
  throw new UserError(`${what}: data_files must be a path, a list of paths, or a mapping from split to paths`);
}

/** Reads the YAML front matter of a dataset card (README.md). Returns null without front matter. */
export function parseDatasetCard(readme: string, what: string): DatasetCard | null {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(readme);
  if (!m) return null;
  let meta: unknown;
  checkYamlDepth(m[1]!, `${what}: the dataset card`);
  try {
    // Warnings would go to the process's warning stream; errors still throw.
    meta = parseYaml(m[1]!, { logLevel: 'error' });
  } catch (e) {
    throw new UserError(`${what}: the dataset card's YAML header does not parse: ${(e as Error).message}`);
  }
  if (!meta || typeof meta !== 'object') return null;
  const o = meta as Record<string, unknown>;
  const configs: CardConfig[] = [];
  if (Array.isArray(o.configs)) {
    for (const c of o.configs) {
      if (!c || typeof c !== 'object') continue;
      const cc = c as Record<string, unknown>;
      const configName = typeof cc.config_name === 'string' ? cc.config_name : 'default';
      const dataFiles: Record<string, string[]> = {};
      const df = cc.data_files;
      if (Array.isArray(df) && df.every((e) => e && typeof e === 'object' && 'split' in e)) {
        for (const e of df as Record<string, unknown>[]) {
          const paths = typeof e.path === 'string' ? [e.path] : Array.isArray(e.path) ? e.path.filter((p): p is string => typeof p === 'string') : [];
          putOwn(dataFiles, String(e.split), [...(own(dataFiles, String(e.split)) ?? []), ...paths]);
        }
      } else if (df !== undefined) {
        for (const [k, v] of Object.entries(dataFilesBySplit(df as DataFilesSpec, `${what} (config ${configName})`))) putOwn(dataFiles, k, v);
      }
      const cfg: CardConfig = { configName, dataFiles, isDefault: cc.default === true };
      if (typeof cc.data_dir === 'string') cfg.dataDir = cc.data_dir;
      configs.push(cfg);
    }
  }
  const labelNames = new Map<string, string[]>();
  const infos = Array.isArray(o.dataset_info) ? o.dataset_info : o.dataset_info ? [o.dataset_info] : [];
  for (const info of infos) {
    if (!info || typeof info !== 'object') continue;
    const io = info as Record<string, unknown>;
    const names = classLabelNames(io.features, 'label');
    if (names) labelNames.set(typeof io.config_name === 'string' ? io.config_name : '', names);
  }
  return { configs, labelNames };
}

/** Class names of feature `column` in a card's `features` list ({name, dtype: {class_label: {names}}}). */
function classLabelNames(features: unknown, column: string): string[] | null {
  if (!Array.isArray(features)) return null;
  for (const f of features) {
    if (!f || typeof f !== 'object' || (f as { name?: unknown }).name !== column) continue;
    const dtype = (f as { dtype?: unknown }).dtype;
    const names = dtype && typeof dtype === 'object' ? (dtype as { class_label?: { names?: unknown } }).class_label?.names : undefined;
    if (Array.isArray(names)) return names.map(String);
    if (names && typeof names === 'object') {
      const entries = Object.entries(names as Record<string, unknown>).sort((a, b) => Number(a[0]) - Number(b[0]));
      return entries.map(([, v]) => String(v));
    }
  }
  return null;
}

export interface ResolvedSplit {
  files: string[];
  /** The config whose files were used ('' when the folder has no card configs). */
  configName: string;
}

/**
 * The files of `split` among `files` (paths relative to the dataset root), honouring a card's configs
 * and the requested config `name`. `what` names the dataset in errors.
 */
export function resolveSplitFiles(files: readonly string[], card: DatasetCard | null, name: string | undefined, split: string, what: string): ResolvedSplit {
  const configs = card?.configs ?? [];
  if (configs.length > 0) {
    let cfg: CardConfig | undefined;
    if (name !== undefined) {
      cfg = configs.find((c) => c.configName === name);
      if (!cfg) throw new UserError(`${what}: no config named '${name}'; the dataset has ${configs.map((c) => `'${c.configName}'`).join(', ')}`);
    } else {
      cfg = configs.find((c) => c.isDefault) ?? configs.find((c) => c.configName === 'default') ?? (configs.length === 1 ? configs[0] : undefined);
      if (!cfg) throw new UserError(`${what}: the dataset has several configs (${configs.map((c) => `'${c.configName}'`).join(', ')}); pass name=<config>`);
    }
    let bySplit = cfg.dataFiles;
    if (Object.keys(bySplit).length === 0) {
      // A config without data_files: datasets' default patterns inside its data_dir.
      const prefix = cfg.dataDir ? cfg.dataDir.replace(/\/$/, '') + '/' : '';
      const under = files.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
      bySplit = Object.fromEntries([...inferSplits(under)].map(([s, fs]) => [s, fs.map((f) => prefix + f)]));
    }
    const patterns = own(bySplit, split);
    if (!patterns) throw new UserError(`${what}: config '${cfg.configName}' has no split '${split}' (it has ${Object.keys(bySplit).map((s) => `'${s}'`).join(', ') || 'none'})`);
    const found = matchFiles(files, patterns);
    if (found.length === 0) throw new UserError(`${what}: no file matches ${patterns.join(', ')} for split '${split}' of config '${cfg.configName}'`);
    return { files: found, configName: cfg.configName };
  }
  let pool = files.filter((f) => f.endsWith('.parquet'));
  let prefix = '';
  if (name !== undefined && name !== 'default') {
    prefix = name.replace(/\/$/, '') + '/';
    pool = pool.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
    if (pool.length === 0) throw new UserError(`${what}: no config '${name}' (no README configs and no parquet files under '${prefix}')`);
  }
  const splits = inferSplits(pool);
  const found = splits.get(split);
  if (!found || found.length === 0) {
    throw new UserError(`${what}: no parquet files for split '${split}'${splits.size > 0 ? ` (found splits ${[...splits.keys()].map((s) => `'${s}'`).join(', ')})` : ''}`);
  }
  return { files: found.map((f) => prefix + f), configName: name ?? '' };
}
