import { readdirSync, readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { join, posix, resolve } from 'node:path';
import { type ConfigDict, type ConfigValue, isDict } from './values.js';
import { decodeYamlBytes, loadYaml, setOwn } from './omegaconf/yaml.js';
import { loadYamlCached } from './yaml-cache.js';
import { type InputDefault, parseDefaultsList } from './defaults/elements.js';
import { DefaultsListValueError } from './hydra-errors.js';
import { type SearchPathEntry, hydraStructuredConfDir, resolvePackagePath } from './search-path.js';

/** Parses a config file's text into config data (engineer B's omegaconf loadYaml). */
export type YamlLoader = (text: string, source: string) => ConfigValue;

export type ListFilter = 'config' | 'group' | 'all';

/** One folder of configs on the search path; Hydra's ConfigSource (file://, pkg://, structured://). */
export class ConfigSource {
  readonly provider: string;
  readonly scheme: string;
  /** The path as Hydra prints it, after the scheme: an absolute folder, a module name, or ''. */
  readonly path: string;
  /** The folder backing this source, or null when it points at nothing we have. */
  readonly root: string | null;
  private readonly dirs: DirCache;

  constructor(entry: SearchPathEntry, dirs: DirCache) {
    this.provider = entry.provider;
    this.dirs = dirs;
    const idx = entry.path.indexOf('://');
    this.scheme = idx === -1 ? 'file' : entry.path.slice(0, idx);
    this.path = idx === -1 ? entry.path : entry.path.slice(idx + 3);
    if (this.scheme === 'file') this.root = resolve(this.path);
    else if (this.scheme === 'pkg') this.root = resolvePackagePath(this.path);
    else if (this.scheme === 'structured') this.root = hydraStructuredConfDir;
    else this.root = null;
  }

  toString(): string {
    return `provider=${this.provider}, path=${this.scheme}://${this.path}`;
  }

  available(): boolean {
    return this.isGroup('');
  }

  isGroup(configPath: string): boolean {
    if (this.root === null) return false;
    return this.dirs.kind(this.root, configPath) === 'dir';
  }

  isConfig(configPath: string): boolean {
    if (this.root === null) return false;
    return this.dirs.kind(this.root, normalizeFileName(configPath)) === 'file';
  }

  /** Sorted, unique names of configs and/or groups directly under a group. */
  list(configPath: string, filter: ListFilter): string[] {
    if (this.root === null) return [];
    const out = new Set<string>();
    for (const [name, kind] of this.dirs.entries(this.root, configPath)) {
      if (name === '__pycache__' || name === '__init__.py') continue;
      if (kind === 'dir' && filter !== 'config') out.add(name);
      if (kind === 'file' && filter !== 'group' && name.endsWith('.yaml')) out.add(name.slice(0, -'.yaml'.length));
    }
    return [...out].sort();
  }

  /** The absolute file of a config, or null. */
  filePath(configPath: string): string | null {
    if (!this.isConfig(configPath) || this.root === null) return null;
    // The file the lookup found: backslashes read as separators there, so here too.
    return join(this.root, normalizeFileName(posix.normalize(configPath.replace(/\\/g, '/'))));
  }
}

/** Hydra (version_base >= 1.2) reads only `.yaml` files; a name without it gets it appended. */
export function normalizeFileName(name: string): string {
  return name.endsWith('.yaml') ? name : `${name}.yaml`;
}

type EntryKind = 'dir' | 'file' | 'other';

/**
 * Directory listings read once and shared by every source and every lookup of a composition: the
 * defaults list asks "is this a group / a config" many times over the same few folders.
 */
export class DirCache {
  private readonly listings = new Map<string, Map<string, EntryKind> | null>();
  /** kind()'s answers by root and path: composition asks the same questions many times (path normalising was a hot spot). */
  private readonly kinds = new Map<string, EntryKind | null>();

  entries(root: string, rel: string): Map<string, EntryKind> {
    return this.listing(join(root, rel)) ?? new Map();
  }

  kind(root: string, rel: string): EntryKind | null {
    const key = `${root}\u0000${rel}`;
    let k = this.kinds.get(key);
    if (k === undefined) {
      k = this.lookupKind(root, rel);
      // Paths outside the root are stat()ed each time, as before; listings are read once anyway.
      if (!this.outside(rel)) this.kinds.set(key, k);
    }
    return k;
  }

  private outside(rel: string): boolean {
    const norm = posix.normalize(rel.replace(/\\/g, '/'));
    return norm.startsWith('..') || norm.startsWith('/');
  }

  private lookupKind(root: string, rel: string): EntryKind | null {
    const norm = posix.normalize(rel.replace(/\\/g, '/'));
    if (norm === '.' || norm === '' || norm === '/') return this.listing(root) === null ? null : 'dir';
    if (norm.startsWith('..') || norm.startsWith('/')) return statKind(join(root, norm));
    const stripped = norm.endsWith('/') ? norm.slice(0, -1) : norm;
    const slash = stripped.lastIndexOf('/');
    const parent = slash === -1 ? root : join(root, stripped.slice(0, slash));
    const listing = this.listing(parent);
    if (listing === null) return null;
    return listing.get(stripped.slice(slash + 1)) ?? null;
  }

  private listing(dir: string): Map<string, EntryKind> | null {
    const hit = this.listings.get(dir);
    if (hit !== undefined) return hit;
    let out: Map<string, EntryKind> | null = null;
    try {
      out = new Map();
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        let kind: EntryKind = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other';
        if (d.isSymbolicLink()) kind = statKind(join(dir, d.name)) ?? 'other';
        out.set(d.name, kind);
      }
    } catch {
      out = null;
    }
    this.listings.set(dir, out);
    return out;
  }
}

function statKind(p: string): EntryKind | null {
  try {
    const s = statSync(p);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

/** A loaded config file, as Hydra's ConfigResult: the body without its `defaults`, its header, its raw defaults. */
export interface LoadedConfig {
  configPath: string;
  provider: string;
  /** `scheme://path` of the source it came from. */
  sourcePath: string;
  file: string;
  /** The config body with the top-level `defaults` key removed. Never mutate: it is shared through the cache. */
  config: ConfigValue;
  /** `# @package` header value, or null. */
  packageHeader: string | null;
  isSchemaSource: boolean;
  /** The raw `defaults` list (null when absent); parse it with `defaultsOf` for fresh elements. */
  rawDefaults: ConfigValue[] | null;
}

/** Parsed files (by absolute path) and directory listings, shareable by compositions that run one after another. */
export class ConfigFileCache {
  readonly dirs = new DirCache();
  readonly files = new Map<string, Pick<LoadedConfig, 'config' | 'packageHeader' | 'rawDefaults'>>();
}

/**
 * Hydra's (caching) ConfigRepository: finds configs and groups along the search path, first source wins
 * for a config, and options are the union over all sources. Files are read and parsed once.
 */
export class ConfigRepository {
  private sourcesList: ConfigSource[] = [];
  private readonly cache = new Map<string, LoadedConfig | null>();
  private readonly dirs: DirCache;
  private readonly files: ConfigFileCache['files'] | null;

  /** `shared`: a cache kept across compositions (a sweep's jobs); by default each repository reads afresh. */
  constructor(
    searchPath: readonly SearchPathEntry[],
    private readonly loader: YamlLoader,
    shared: ConfigFileCache | null = null,
  ) {
    this.dirs = shared?.dirs ?? new DirCache();
    this.files = shared?.files ?? null;
    this.initializeSources(searchPath);
  }

  /** Replaces the sources; like Hydra's CachingConfigRepository the cache (the primary config) is kept. */
  initializeSources(searchPath: readonly SearchPathEntry[]): void {
    this.sourcesList = searchPath.map((e) => new ConfigSource(e, this.dirs));
  }

  get sources(): readonly ConfigSource[] {
    return this.sourcesList;
  }

  searchPathDescription(includeSchema = true): string {
    return this.sourcesList
      .filter((s) => includeSchema || s.provider !== 'schema')
      .map((s) => `\t${s.toString()}`)
      .join('\n');
  }

  groupExists(path: string): boolean {
    return this.sourcesList.some((s) => s.isGroup(path));
  }

  configExists(path: string): boolean {
    return this.sourcesList.some((s) => s.isConfig(path));
  }

  /** Options (config names) and/or sub-groups of a group over every source, sorted and unique. */
  groupOptions(group: string, filter: ListFilter = 'config'): string[] {
    const out = new Set<string>();
    for (const s of this.sourcesList) if (s.isGroup(group)) for (const o of s.list(group, filter)) out.add(o);
    return [...out].sort();
  }

  loadConfig(configPath: string): LoadedConfig | null {
    const hit = this.cache.get(configPath);
    if (hit !== undefined) return hit;
    const source = this.sourcesList.find((s) => s.isConfig(configPath));
    let loaded: LoadedConfig | null = null;
    if (source !== undefined) {
      const file = source.filePath(configPath)!;
      let parsed = this.files?.get(file);
      if (parsed === undefined) {
        parsed = this.parseFile(configPath, file);
        this.files?.set(file, parsed);
      }
      loaded = {
        configPath,
        provider: source.provider,
        sourcePath: `${source.scheme}://${source.path}`,
        file,
        ...parsed,
        isSchemaSource: source.provider === 'schema' && source.scheme === 'structured',
      };
    }
    this.cache.set(configPath, loaded);
    return loaded;
  }

  private parseFile(configPath: string, file: string): Pick<LoadedConfig, 'config' | 'packageHeader' | 'rawDefaults'> {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new UserError(`cannot read config '${configPath}' (${file}): ${(e as Error).message}`);
    }
    const text = decodeYamlBytes(bytes, file);
    const packageHeader = readHeader(text.slice(0, 512)).package ?? null;
    // The parsed-config cache stores loadYaml's output, so it stands in for that loader only.
    let body = this.loader === loadYaml ? loadYamlCached(text, file) : this.loader(text, file);
    if (body === null) body = {};
    const rawDefaults = extractDefaults(configPath, body);
    if (isDict(body) && 'defaults' in body) {
      const copy: ConfigDict = {};
      for (const k of Object.keys(body)) if (k !== 'defaults') setOwn(copy, k, body[k]!);
      body = copy;
    }
    return { config: body, packageHeader, rawDefaults };
  }

  /** Fresh defaults-list elements of a loaded config (the builder mutates them). */
  defaultsOf(loaded: LoadedConfig): InputDefault[] {
    return loaded.rawDefaults === null ? [] : parseDefaultsList(loaded.configPath, loaded.rawDefaults);
  }
}

function extractDefaults(configPath: string, body: ConfigValue): ConfigValue[] | null {
  if (!isDict(body) || !('defaults' in body)) return null;
  const d = body.defaults;
  if (Array.isArray(d)) return d;
  const typeStr = isDict(d) ? 'mapping' : pythonTypeName(d);
  throw new DefaultsListValueError(`Invalid defaults list in '${configPath}', defaults must be a list (got ${typeStr})`);
}

export function pythonTypeName(v: ConfigValue | undefined): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (Array.isArray(v)) return 'list';
  if (isDict(v)) return 'dict';
  return 'float';
}

/**
 * Hydra's config header (`# @package foo`): only the leading `# @key value` lines count; the first other
 * non-empty line (a plain comment included) ends the header.
 */
export function readHeader(text: string): Record<string, string | null> {
  const res: Record<string, string | null> = {};
  for (const raw of text.split(/\r\n|\r|\n/)) {
    let line = raw.trim();
    if (line.length === 0) continue;
    if (!/^\s*#\s*@/.test(line)) break;
    line = line.replace(/^#+/, '').trim();
    const splits = line.split(' ').filter((x) => x.length > 0);
    if (splits.length < 2) throw new DefaultsListValueError(`Expected header format: KEY VALUE, got '${line}'`);
    if (splits.length > 2) throw new DefaultsListValueError(`Too many components in '${line}'`);
    const key = splits[0].trim();
    if (key.startsWith('@')) res[key.slice(1)] = splits[1].trim();
  }
  if (!('package' in res)) res.package = null;
  return res;
}
