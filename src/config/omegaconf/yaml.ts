import { createRequire } from 'node:module';
import type { Alias, Document, Node as YamlNode, Scalar as YamlScalar, YAMLMap, YAMLSeq } from 'yaml';
import { UserError } from '../../errors.js';
import { type ConfigDict, type ConfigValue, Float, formatFloat } from '../values.js';
import { constructBool, constructFloat, constructInt, constructPlain, resolvePlainTag } from './scalars.js';

const TAG_PREFIX = 'tag:yaml.org,2002:';

type YamlLib = typeof import('yaml');
let yamlLib: YamlLib | undefined;
/**
 * The `yaml` package, loaded on first parse: it is ~70 modules, and a CLI start-up that finds every
 * config in the parsed-config cache (config/yaml-cache) never needs it. `require` keeps loadYaml synchronous.
 */
function lib(): YamlLib {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib);
}
const isAlias = (n: unknown): n is Alias => lib().isAlias(n);
const isMap = (n: unknown): n is YAMLMap => lib().isMap(n);
const isScalar = (n: unknown): n is YamlScalar => lib().isScalar(n);
const isSeq = (n: unknown): n is YAMLSeq => lib().isSeq(n);

/** Sets a key on config data without tripping over `__proto__`. */
export function setOwn(obj: ConfigDict, key: string, value: ConfigValue): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * How deeply a YAML document may nest (block and flow collections together). Counted before the `yaml`
 * package parses (its recursive descent would overflow the JS stack near 800 levels) and while
 * constructing; real configs nest a dozen levels.
 */
export const MAX_YAML_DEPTH = 500;
/**
 * Values that aliases may add to a document beyond its own: a few aliases are fine, a "billion laughs"
 * chain of aliases to aliases is refused while its expansion is still in proportion to the file.
 */
export const MAX_ALIAS_VALUES = 10_000;
const ALIAS_VALUES_PER_CHAR = 10;

class Reader {
  private readonly lines = new (lib().LineCounter)();
  private readonly active = new Set<unknown>();
  private doc!: Document;
  private depth = 0;
  private aliasDepth = 0;
  private aliasValues = 0;
  private readonly maxAliasValues: number;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {
    this.maxAliasValues = MAX_ALIAS_VALUES + ALIAS_VALUES_PER_CHAR * text.length;
  }

  read(): ConfigValue {
    checkYamlDepth(this.text, this.source);
    this.doc = lib().parseDocument(this.text, { schema: 'failsafe', uniqueKeys: false, merge: false, lineCounter: this.lines, prettyErrors: false });
    const err = this.doc.errors[0];
    if (err) {
      const where = err.linePos ? `, line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      throw new UserError(`Invalid YAML in ${this.source}${where}: ${err.message.split('\n')[0]}`);
    }
    const root = this.doc.contents;
    if (root === null) return null;
    return this.construct(root as YamlNode);
  }

  private where(node: unknown): string {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!range) return `"${this.source}"`;
    const pos = this.lines.linePos(range[0]);
    return `"${this.source}", line ${pos.line}, column ${pos.col}`;
  }

  private fail(node: unknown, problem: string, context?: { node: unknown; text: string }): never {
    const head = context ? `${context.text}\n  in ${this.where(context.node)}\n` : '';
    throw new UserError(`${head}${problem}\n  in ${this.where(node)}`);
  }

  private tagOf(node: YamlNode): string | undefined {
    const tag = (node as { tag?: string }).tag;
    return tag === undefined || tag === '!' ? undefined : tag;
  }

  /** The tag PyYAML's composer gives a key or value scalar. */
  private scalarTag(node: YamlScalar): string {
    const tag = this.tagOf(node);
    if (tag !== undefined) return tag;
    const explicitBang = (node as { tag?: string }).tag === '!';
    if (node.type === 'PLAIN' || explicitBang) return TAG_PREFIX + resolvePlainTag(String(node.value ?? ''));
    return TAG_PREFIX + 'str';
  }

  private construct(node: YamlNode | null): ConfigValue {
    if (node === null) return null;
    if (this.aliasDepth > 0 && ++this.aliasValues > this.maxAliasValues) {
      this.fail(node, `aliases expand to more than ${this.maxAliasValues} values (aliases of aliases multiply; is this a "billion laughs" document?)`);
    }
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) this.fail(node, `found undefined alias ${node.source}`);
      if (this.active.has(target)) this.fail(node, `found recursive alias ${node.source}`);
      this.aliasDepth++;
      try {
        return this.construct(target as YamlNode);
      } finally {
        this.aliasDepth--;
      }
    }
    if (this.depth >= MAX_YAML_DEPTH) this.fail(node, `collections nest more than ${MAX_YAML_DEPTH} levels deep`);
    this.depth++;
    this.active.add(node);
    try {
      if (isScalar(node)) return this.constructScalar(node);
      if (isSeq(node)) {
        this.checkCollectionTag(node, 'seq');
        return node.items.map((item) => this.construct(item as YamlNode | null));
      }
      if (isMap(node)) {
        this.checkCollectionTag(node, 'map');
        return this.constructMap(node);
      }
    } finally {
      this.active.delete(node);
      this.depth--;
    }
    this.fail(node, 'unsupported YAML node');
  }

  private checkCollectionTag(node: YamlNode, kind: 'seq' | 'map'): void {
    const tag = this.tagOf(node);
    if (tag !== undefined && tag !== TAG_PREFIX + kind) this.fail(node, `could not determine a constructor for the tag '${tag}'`);
  }

  private constructScalar(node: YamlScalar): ConfigValue {
    const text = String(node.value ?? '');
    const tag = this.scalarTag(node);
    try {
      switch (tag) {
        case TAG_PREFIX + 'str':
          return text;
        case TAG_PREFIX + 'int':
          return constructInt(text);
        case TAG_PREFIX + 'float':
          return constructFloat(text);
        case TAG_PREFIX + 'bool':
          return constructBool(text);
        case TAG_PREFIX + 'null':
          return null;
        case TAG_PREFIX + 'merge':
          return text;
        default:
          if (this.tagOf(node) === undefined) return constructPlain(text);
          throw new Error(`could not determine a constructor for the tag '${tag}'`);
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      this.fail(node, (e as Error).message);
    }
  }

  private keyString(v: ConfigValue): string {
    if (typeof v === 'string') return v;
    if (v === null) return 'None';
    if (typeof v === 'boolean') return v ? 'True' : 'False';
    if (v instanceof Float) return formatFloat(v.value);
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    throw new Error('unhashable key');
  }

  private constructMap(node: YamlNode & { items: Array<{ key: unknown; value: unknown }> }): ConfigDict {
    // OmegaConf's loader rejects duplicate string keys before PyYAML flattens merge keys.
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = pair.key as YamlNode | null;
      if (key !== null && isScalar(key) && this.scalarTag(key) === TAG_PREFIX + 'str') {
        const k = String(key.value ?? '');
        if (seen.has(k)) this.fail(key, `found duplicate key ${k}`, { node, text: 'while constructing a mapping' });
        seen.add(k);
      }
    }
    const merged: Array<[string, ConfigValue]> = [];
    const own: Array<[string, ConfigValue]> = [];
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      if (keyNode !== null && isScalar(keyNode) && this.scalarTag(keyNode) === TAG_PREFIX + 'merge') {
        merged.push(...this.mergeEntries(pair.value as YamlNode | null, node));
        continue;
      }
      let key: string;
      if (keyNode !== null && isScalar(keyNode) && this.scalarTag(keyNode) === TAG_PREFIX + 'value') key = '=';
      else {
        const kv = this.construct(keyNode);
        try {
          key = this.keyString(kv);
        } catch {
          this.fail(keyNode, 'found unhashable key', { node, text: 'while constructing a mapping' });
        }
      }
      own.push([key, this.construct(pair.value as YamlNode | null)]);
    }
    const out: ConfigDict = {};
    for (const [k, v] of merged) setOwn(out, k, v);
    for (const [k, v] of own) setOwn(out, k, v);
    return out;
  }

  /** PyYAML's flatten_mapping: a mapping, or a list of mappings where earlier ones win. */
  private mergeEntries(value: YamlNode | null, mapNode: YamlNode): Array<[string, ConfigValue]> {
    const target = value !== null && isAlias(value) ? (value.resolve(this.doc) as YamlNode | undefined) ?? null : value;
    const ctx = { node: mapNode, text: 'while constructing a mapping' };
    if (target !== null && isMap(target)) return Object.entries(this.construct(value) as ConfigDict);
    if (target !== null && isSeq(target)) {
      const parts: Array<Array<[string, ConfigValue]>> = [];
      for (const item of target.items) {
        const sub = item !== null && isAlias(item) ? (item.resolve(this.doc) as YamlNode | undefined) : (item as YamlNode | null);
        if (!sub || !isMap(sub)) this.fail(item, `expected a mapping for merging, but found ${sub && isSeq(sub) ? 'sequence' : 'scalar'}`, ctx);
        parts.push(Object.entries(this.construct(item as YamlNode) as ConfigDict));
      }
      return parts.reverse().flat();
    }
    this.fail(value, `expected a mapping or list of mappings for merging, but found ${target && isScalar(target) ? 'scalar' : 'other'}`, ctx);
  }
}

/**
 * Refuses text whose collections could nest more than MAX_YAML_DEPTH levels, in one pass and without
 * recursion. The count is an upper bound: open indentation levels, plus `- `/`? ` indicators leading a
 * line, plus unclosed `[`/`{` (quotes are not tracked, so brackets inside strings count too).
 */
export function checkYamlDepth(text: string, source: string): void {
  const indents: number[] = [];
  // Open brackets: '[' and '{' nest flow collections; '$' marks a `${` outside them (an interpolation, not YAML).
  const open: number[] = [];
  let flow = 0;
  let line = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    let i = start;
    while (i < end && text.charCodeAt(i) === 32) i++;
    const c = text[i];
    if (i < end && c !== '#' && c !== '\r') {
      const indent = i - start;
      while (indents.length > 0 && indents[indents.length - 1]! > indent) indents.pop();
      if (indents.length === 0 || indents[indents.length - 1]! < indent) indents.push(indent);
      let markers = 0;
      while (i + 1 < end && (text[i] === '-' || text[i] === '?') && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        markers++;
        i += 2;
        while (i < end && (text[i] === ' ' || text[i] === '\t')) i++;
      }
      let most = flow;
      for (; i < end; i++) {
        const ch = text.charCodeAt(i);
        // In block context `${` is text; inside a flow collection `{` is an indicator whatever precedes it.
        if (ch === 123 && flow === 0 && i > 0 && text.charCodeAt(i - 1) === 36) open.push(36);
        else if (ch === 91 || ch === 123) {
          open.push(ch);
          most = Math.max(most, ++flow);
        } else if ((ch === 93 || ch === 125) && open.length > 0) {
          const top = open[open.length - 1]!;
          if (ch === 125 && top === 36) open.pop();
          else if ((ch === 93 && top === 91) || (ch === 125 && top === 123)) {
            open.pop();
            flow--;
          }
        }
      }
      if (indents.length + markers + most > MAX_YAML_DEPTH) {
        throw new UserError(`Invalid YAML in ${source}, line ${line}: collections nest more than ${MAX_YAML_DEPTH} levels deep`);
      }
    }
    start = end + 1;
  }
}

/** A YAML file's bytes as text: UTF-8 (a BOM dropped), or an error naming the file and the first bad byte. */
export function decodeYamlBytes(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const ok = firstInvalidUtf8(bytes);
    let line = 1;
    for (let k = 0; k < ok; k++) if (bytes[k] === 10) line++;
    const b = bytes[ok];
    throw new UserError(
      `${source} is not UTF-8: byte 0x${(b ?? 0).toString(16).padStart(2, '0')} at offset ${ok} (line ${line}) cannot be decoded; save the file as UTF-8`,
    );
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629), or the length. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return i;
}

/**
 * Reads YAML text as OmegaConf does (`OmegaConf.load`): PyYAML 1.1 scalar typing, OmegaConf's float rule,
 * no timestamps, duplicate keys rejected, anchors, aliases and `<<` merge keys. An empty document is null.
 * Errors are UserErrors naming `source`.
 */
export function loadYaml(text: string, source: string): ConfigValue {
  return new Reader(text, source).read();
}

/**
 * `OmegaConf.load` / `OmegaConf.create(str)`: like loadYaml, but an empty document is `{}`, a document that
 * is a string is read again as YAML (a bare word `foo` becomes `{foo: null}`), and other scalars are errors.
 */
export function loadConfig(text: string, source: string): ConfigDict | ConfigValue[] {
  const obj = loadYaml(text, source);
  if (obj === null) return {};
  if (Array.isArray(obj) || (typeof obj === 'object' && !(obj instanceof Float))) return obj as ConfigDict | ConfigValue[];
  if (typeof obj === 'string') {
    const again = loadYaml(obj, source);
    if (again === null) return {};
    if (typeof again === 'string') return { [again]: null };
    if (Array.isArray(again) || (typeof again === 'object' && !(again instanceof Float))) return again as ConfigDict | ConfigValue[];
  }
  throw new UserError(`Invalid loaded object type in ${source}: expected a mapping or a list, got ${formatScalarType(obj)}`);
}

function formatScalarType(v: ConfigValue): string {
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Float) return 'float';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  return typeof v === 'string' ? 'str' : 'scalar';
}

/**
 * Hydra's `# @package <pkg>` header: read from the leading comment block of the file's first 512
 * characters only (blank lines skipped, the first line that is not a `# @...` directive ends the header).
 */
export function readPackageHeader(text: string): string | null {
  let pkg: string | null = null;
  for (const raw of text.slice(0, 512).split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line.length === 0) continue;
    if (!/^\s*#\s*@/.test(line)) break;
    const body = line.replace(/^#+/, '').trim();
    const parts = body.split(' ').filter((s) => s.length > 0);
    if (parts.length < 2) throw new UserError(`Expected header format: KEY VALUE, got '${body}'`);
    if (parts.length > 2) throw new UserError(`Too many components in '${body}'`);
    if (parts[0] === '@package') pkg = parts[1]!;
  }
  return pkg;
}
