/**
 * A parsed-config cache for the command line's start-up: parsing YAML (and loading the `yaml` package to
 * do it) is most of what composing a config costs, and the same files are composed on every run.
 *
 * An entry is keyed by a hash of the file's text and of a salt naming the loader's build, so an edit to the
 * file, or a build with a different loader, never finds an old entry. Values are stored as JSON with
 * floats, bigints and -0 tagged, so they come back exactly as loadYaml made them. Entries are written
 * atomically (temp file, then rename); one that cannot be read or does not check out is ignored.
 *
 * Off until enableYamlCache is called (the `fusion-bench` binary does, unless FUSION_BENCH_NO_CACHE=1):
 * library users and tests parse every time, as before.
 */
import { readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ConfigDict, type ConfigValue, Float } from './values.js';
import { loadYaml, setOwn } from './omegaconf/yaml.js';
import { ensureDir } from '../util/ensure-dir.js';

export interface YamlCacheOptions {
  /** Names the loader's build; part of every key. */
  salt: string;
  /** Folders searched for entries, in order (e.g. a cache prebuilt for the package's own configs). */
  readDirs: readonly string[];
  /** Where new entries are written, or null to write none. */
  writeDir: string | null;
}

/**
 * Entries larger than this are not written: a config that expands (aliases) or is huge gains nothing from
 * the cache and would fill the user's cache folder.
 */
export const MAX_ENTRY_CHARS = 1 << 20;
/** Bump when the entry format changes. */
const FORMAT = 1;
/** The written folder is trimmed to KEEP_ENTRIES (oldest first) once it holds more than MAX_ENTRIES. */
const MAX_ENTRIES = 2000;
const KEEP_ENTRIES = 1000;
const TAG = '\u0000';

let active: YamlCacheOptions | null = null;
let writeDirReady = false;

/** Turns the cache on for this process (no-op when FUSION_BENCH_NO_CACHE=1 in `env`). */
export function enableYamlCache(opts: YamlCacheOptions, env: NodeJS.ProcessEnv = process.env): void {
  if (env.FUSION_BENCH_NO_CACHE === '1') return;
  active = opts;
  writeDirReady = false;
}

export function disableYamlCache(): void {
  active = null;
}

/** `$XDG_CACHE_HOME/fusion-bench/yaml`, else `~/.cache/fusion-bench/yaml`; null when neither can be found. */
export function userYamlCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const base = env.XDG_CACHE_HOME || (() => {
    try {
      return join(homedir(), '.cache');
    } catch {
      return '';
    }
  })();
  return base ? join(base, 'fusion-bench', 'yaml') : null;
}

/**
 * A 128-bit hash of the salt and the text: four 32-bit multiply-xor lanes in one pass, each finished
 * with cyrb53's mixing. Not cryptographic — the cache guards against edits, not adversaries — and it
 * spares start-up loading node:crypto (15 internal modules).
 */
export function yamlCacheKey(text: string, salt: string): string {
  const s = `${FORMAT}\u0000${salt}\u0000${text}`;
  let a = 0xdeadbeef;
  let b = 0x41c6ce57;
  let c = 0x9e3779b9;
  let d = 0x85ebca6b;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
    c = Math.imul(c ^ ch, 2246822519);
    d = Math.imul(d ^ ch, 3266489917);
  }
  return `${mix(a, b)}${mix(c, d)}${s.length.toString(16)}`;
}

function mix(h1: number, h2: number): string {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** loadYaml, through the cache when it is on. Errors are never cached: a bad file is parsed (and fails) each time. */
export function loadYamlCached(text: string, source: string): ConfigValue {
  const opts = active;
  if (opts === null) return loadYaml(text, source);
  const key = yamlCacheKey(text, opts.salt);
  for (const dir of opts.readDirs) {
    const hit = readEntry(dir, key);
    if (hit !== undefined) return hit;
  }
  const value = loadYaml(text, source);
  if (opts.writeDir !== null) {
    if (!writeDirReady) {
      try {
        ensureDir(opts.writeDir, 'the YAML cache folder');
      } catch {
        // a read-only home: run without writing
      }
      writeDirReady = true;
    }
    // Every distinct text adds an entry (temporary configs too): now and then, trim the folder.
    if (writeEntry(opts.writeDir, key, value) && Math.random() < 1 / 64) pruneEntries(opts.writeDir, MAX_ENTRIES, KEEP_ENTRIES);
  }
  return value;
}

/** Deletes the oldest entries (by mtime) of a cache folder holding more than `max`, down to `keep`. */
export function pruneEntries(dir: string, max: number, keep: number): number {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return 0;
  }
  if (names.length <= max) return 0;
  const aged: Array<[number, string]> = [];
  for (const n of names) {
    try {
      aged.push([statSync(join(dir, n)).mtimeMs, n]);
    } catch {
      // removed by another process meanwhile
    }
  }
  aged.sort((a, b) => a[0] - b[0]);
  let removed = 0;
  for (const [, n] of aged.slice(0, Math.max(0, aged.length - keep))) {
    try {
      unlinkSync(join(dir, n));
      removed++;
    } catch {
      // already gone
    }
  }
  return removed;
}

function readEntry(dir: string, key: string): ConfigValue | undefined {
  let raw: string;
  try {
    raw = readFileSync(join(dir, `${key}.json`), 'utf8');
  } catch {
    return undefined;
  }
  return decodeEntry(raw, key);
}

/** Writes one entry (temp file, then rename); failures are ignored: the cache is only an accelerator. */
export function writeEntry(dir: string, key: string, value: ConfigValue): boolean {
  const file = join(dir, `${key}.json`);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const text = encodeEntry(key, value);
  if (text.length > MAX_ENTRY_CHARS) return false;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
    return true;
  } catch {
    return false;
  }
}

export function encodeEntry(key: string, value: ConfigValue): string {
  return JSON.stringify({ k: key, d: encodeValue(value) });
}

/** The value stored under `key`, or undefined when `raw` is not a well-formed entry for it. */
export function decodeEntry(raw: string, key: string): ConfigValue | undefined {
  try {
    const obj = JSON.parse(raw) as { k?: unknown; d?: unknown };
    if (obj === null || typeof obj !== 'object' || obj.k !== key || !('d' in obj)) return undefined;
    return decodeValue(obj.d);
  } catch {
    return undefined;
  }
}

function encodeValue(v: ConfigValue): unknown {
  if (typeof v === 'string') return v.startsWith(TAG) ? `${TAG}s${v}` : v;
  if (v instanceof Float) return `${TAG}f${Object.is(v.value, -0) ? '-0' : String(v.value)}`;
  if (typeof v === 'bigint') return `${TAG}b${v.toString()}`;
  if (typeof v === 'number') return Object.is(v, -0) ? `${TAG}i-0` : v;
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const e = encodeValue(v[k]!);
      if (k === '__proto__') Object.defineProperty(out, k, { value: e, enumerable: true, writable: true, configurable: true });
      else out[k] = e;
    }
    return out;
  }
  return v;
}

function decodeTagged(s: string): ConfigValue {
  const body = s.slice(2);
  switch (s[1]) {
    case 's':
      return body;
    case 'f':
      return new Float(Number(body));
    case 'b':
      return BigInt(body);
    case 'i':
      return Number(body);
    default:
      throw new Error('bad cache tag');
  }
}

/** Rewrites JSON.parse's output in place into config data (JSON.parse already makes `__proto__` an own key). */
function decodeValue(v: unknown): ConfigValue {
  if (typeof v === 'string') return v.charCodeAt(0) === 0 ? decodeTagged(v) : v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== null && typeof x === 'object') decodeValue(x);
      else if (typeof x === 'string' && x.charCodeAt(0) === 0) v[i] = decodeTagged(x);
    }
    return v as ConfigValue[];
  }
  if (v !== null && typeof v === 'object') {
    const d = v as ConfigDict;
    for (const k of Object.keys(d)) {
      const x = d[k];
      if (x !== null && typeof x === 'object') decodeValue(x);
      else if (typeof x === 'string' && x.charCodeAt(0) === 0) setOwn(d, k, decodeTagged(x));
    }
    return d;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  throw new Error('bad cache value');
}
