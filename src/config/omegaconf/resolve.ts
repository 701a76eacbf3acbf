import { type ConfigDict, type ConfigValue, Float, cloneValue, isDict } from '../values.js';
import { isResolutionError, OmegaConfError, type OmegaConfErrorClass } from './errors.js';
import {
  type Element,
  everyOther,
  type Interp,
  isInterpolation,
  isMissing,
  MISSING,
  parseInterpolation,
  parseSingleElement,
  type TextNode,
  type Token,
} from './interpolation.js';
import { formatFullKey, parseIndex, type PathKey, splitKey } from './keys.js';
import { pyStr, pyStringRepr } from './pystr.js';
import { strftime } from './strftime.js';
import { loadConfig } from './yaml.js';

/**
 * Resolution of OmegaConf interpolations over plain config data, following omegaconf 2.3's
 * base.py / basecontainer.py / grammar_visitor.py: node interpolations keep the referenced value's type,
 * string interpolations give strings, relative keys count dots from the containing node, errors carry
 * OmegaConf's classes and messages, cycles are detected.
 */

export interface ResolveContext {
  /** Environment for `oc.env` (values are strings; undefined = unset). */
  env: Record<string, string | undefined>;
  /** Hydra's `hydra` node, for `${hydra:...}` (HydraConfig.get()). */
  hydra?: ConfigDict;
  /** Extra resolvers by name (`my.resolver`), like `OmegaConf.register_new_resolver`. */
  resolvers?: Record<string, Resolver>;
  /** Clock for `${now:...}`; the real clock by default. */
  now?: () => Date;
  /** Where `oc.deprecated` warnings go (stderr by default). */
  warn?: (message: string) => void;
}

/** A custom resolver: receives the evaluated arguments (containers as plain data) and their source text. */
export type Resolver = (args: ConfigValue[], call: { argsText: string[]; nodeKey: string; root: ConfigDict }) => ConfigValue;

/** A node in the tree, with the way up (OmegaConf nodes know their parent). */
interface Ref {
  value: ConfigValue;
  parent: Ref | null;
  key: PathKey | null;
}

/** A resolution result: a value, and where it lives when it is a container of the config. */
interface Out {
  value: ConfigValue;
  ref?: Ref;
}

/** Python exceptions raised inside resolvers, reported as `<Type> raised while resolving interpolation: <msg>`. */
class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Nested resolutions (an interpolation whose target is an interpolation, an interpolation or container
 * inside a resolver's arguments, …) before a RecursionError report; well within the JS stack.
 */
const MAX_DEPTH = 600;
/** Longest string one interpolation may produce; doubling chains (`k1: ${k0}${k0}`, …) stop here. */
export const MAX_RESOLVED_CHARS = 1 << 18;
/** Most characters all interpolated strings of one resolution may produce together. */
export const MAX_TOTAL_RESOLVED_CHARS = 1 << 22;
/** Most characters of YAML that `oc.create` may parse in one resolution. */
export const MAX_CREATE_CHARS = 1 << 15;
/** Most values one resolved config may hold; nested references to references stop here. */
export const MAX_RESOLVED_NODES = 1 << 18;

/** The nodes being resolved on the way to the current one (id → full key), to detect and name cycles. */
type Memo = Map<string, string>;
const nowCaches = new WeakMap<ResolveContext, Map<string, string>>();

function isContainer(v: ConfigValue | undefined): v is ConfigDict | ConfigValue[] {
  return Array.isArray(v) || isDict(v);
}

function pyTypeName(v: ConfigValue | undefined): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (v instanceof Float) return 'float';
  if (Array.isArray(v)) return 'ListConfig';
  return 'DictConfig';
}

function fullKeyOf(ref: Ref): string {
  const keys: PathKey[] = [];
  for (let r: Ref | null = ref; r !== null; r = r.parent) if (r.key !== null) keys.unshift(r.key);
  return formatFullKey(keys);
}

function topOf(ref: Ref): Ref {
  let r = ref;
  while (r.parent !== null) r = r.parent;
  return r;
}

function childRef(parent: Ref, key: PathKey): Ref {
  const c = parent.value;
  const value = Array.isArray(c) ? c[key as number]! : (c as ConfigDict)[String(key)]!;
  return { value, parent, key };
}

function argCount(name: string, args: ConfigValue[], min: number, max: number, names: string[]): void {
  if (args.length > max) {
    const range = min === max ? `${max}` : `from ${min} to ${max}`;
    throw new PyError('TypeError', `${name}() takes ${range} positional argument${max === 1 ? '' : 's'} but ${args.length} were given`);
  }
  if (args.length < min) {
    const missing = names.slice(args.length, min);
    throw new PyError('TypeError', `${name}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${missing.map((n) => `'${n}'`).join(' and ')}`);
  }
}

class Session {
  private depth = 0;
  private nodes = 0;
  private chars = 0;
  private yamlChars = 0;
  /**
   * Resolved interpolations by node: a node reached again (a diamond of references) is not resolved
   * again, so time follows the config's size, not what its references expand to.
   */
  private readonly done = new Map<string, Out>();

  constructor(
    private readonly ctx: ResolveContext,
    private readonly root: Ref,
    /** OmegaConf.resolve's rule: an interpolation of a `???` value becomes `???` (to_container raises). */
    private readonly missingInterpolations: 'throw' | 'missing' = 'throw',
  ) {}

  /** `_dereference_node`: the node's value with its interpolation resolved (a fresh memo per node). */
  deref(ref: Ref, memo: Memo = new Map()): Out {
    if (!isInterpolation(ref.value)) return { value: ref.value, ref };
    if (ref.parent === null) throw new OmegaConfError('InterpolationResolutionError', 'Cannot resolve an interpolation without a parent');
    // The path is part of the key: one container reached along two paths resolves relative keys differently.
    const id = ref.key === null ? null : `${nodeId(ref)}@${fullKeyOf(ref)}`;
    const known = id === null ? undefined : this.done.get(id);
    if (known !== undefined) return known;
    const out = this.resolveString(ref.value, ref.parent, ref, memo);
    if (id !== null) this.done.set(id, out);
    return out;
  }

  /** Resolves a config string sitting under `parent` (`resolve_parse_tree` with its error wrapping). */
  resolveString(text: string, parent: Ref, node: Ref, memo: Memo): Out {
    const tree = parseInterpolation(text);
    this.enter();
    try {
      return this.text(tree, parent, node, memo);
    } catch (e) {
      throw wrapError(e);
    } finally {
      this.depth--;
    }
  }

  /**
   * One level deeper: a resolution, an interpolation or a container argument. Counted so that chains and
   * nestings together stop with OmegaConf's RecursionError report before the JS stack runs out.
   */
  private enter(): void {
    if (this.depth >= MAX_DEPTH) {
      throw new OmegaConfError('InterpolationResolutionError', 'RecursionError raised while resolving interpolation: maximum recursion depth exceeded');
    }
    this.depth++;
  }

  private text(tree: TextNode, parent: Ref, node: Ref, memo: Memo): Out {
    if (tree.parts.length === 1 && tree.parts[0]!.kind !== 'lit') return this.interp(tree.parts[0]!, parent, node, memo);
    let s = '';
    for (const p of tree.parts) s = checkedLength(node, s + (p.kind === 'lit' ? p.text : pyStr(this.interp(p, parent, node, memo).value)));
    this.chars += s.length;
    if (this.chars > MAX_TOTAL_RESOLVED_CHARS) {
      throw new OmegaConfError('InterpolationResolutionError', `the resolved strings would hold more than ${MAX_TOTAL_RESOLVED_CHARS} characters in all (at '${fullKeyOf(node)}')`);
    }
    return { value: s };
  }

  private interp(it: Interp, parent: Ref, node: Ref, memo: Memo): Out {
    this.enter();
    try {
      return this.interpBody(it, parent, node, memo);
    } finally {
      this.depth--;
    }
  }

  private interpBody(it: Interp, parent: Ref, node: Ref, memo: Memo): Out {
    if (it.kind === 'node') {
      let key = '';
      for (const piece of it.pieces) {
        if (typeof piece === 'string') key += piece;
        else {
          const v = this.interp(piece, parent, node, memo).value;
          if (typeof v !== 'string') {
            throw new OmegaConfError(
              'InterpolationResolutionError',
              `The following interpolation is used to denote a config key and thus should return a string, but instead returned \`${pyStr(v)}\` of type \`<class '${pyTypeName(v)}'>\`: ${piece.source}`,
            );
          }
          key += v;
        }
      }
      return this.nodeInterpolation(parent, key, memo);
    }
    const nameParts: string[] = [];
    for (const piece of it.name) {
      if (typeof piece === 'string') nameParts.push(piece);
      else {
        const v = this.interp(piece, parent, node, memo).value;
        if (typeof v !== 'string') {
          throw new OmegaConfError(
            'InterpolationResolutionError',
            `The name of a resolver must be a string, but the interpolation ${piece.source} resolved to \`${pyStr(v)}\` which is of type <class '${pyTypeName(v)}'>`,
          );
        }
        nameParts.push(v);
      }
    }
    const name = nameParts.join('.');
    const args = it.args.map((a) => this.element(a.element, parent, node, memo));
    return this.callResolver(name, args, it.args.map((a) => a.text), parent, node);
  }

  /** `_resolve_node_interpolation`. */
  private nodeInterpolation(self: Ref, interKey: string, memo: Memo): Out {
    let base: Ref;
    let key = interKey;
    if (!key.startsWith('.')) base = topOf(self);
    else {
      base = self;
      for (;;) {
        key = key.slice(1);
        if (!key.startsWith('.')) break;
        if (base.parent === null) {
          throw new OmegaConfError('InterpolationKeyError', `ConfigKeyError while resolving interpolation: Error resolving key '${interKey}'`);
        }
        base = base.parent;
      }
    }
    let found: Out | undefined;
    try {
      found = this.selectImpl(base, key, true, memo);
    } catch (e) {
      if (e instanceof OmegaConfError && e.className === 'MissingMandatoryValue') {
        throw new OmegaConfError('InterpolationToMissingValueError', `MissingMandatoryValue while resolving interpolation: ${e.msg}`);
      }
      throw e;
    }
    if (found === undefined) throw new OmegaConfError('InterpolationKeyError', `Interpolation key '${key}' not found`);
    if (isContainer(found.value)) {
      for (let r: Ref | null = self; r !== null; r = r.parent) {
        if (r.value === found.value) throw new OmegaConfError('InterpolationResolutionError', 'Interpolation to parent node detected');
      }
    }
    return found;
  }

  /** `_select_one`: the child ref, or undefined. */
  private selectOne(c: Ref, key: string, throwOnMissing: boolean): Ref | undefined {
    const v = c.value;
    let ref: Ref | undefined;
    if (Array.isArray(v)) {
      const i = parseIndex(key);
      if (i === null) throw new PyError('TypeError', `Index '${key}' (str) is not an int`);
      if (i >= 0 && i < v.length) ref = childRef(c, i);
    } else if (isDict(v) && Object.prototype.hasOwnProperty.call(v, key)) ref = childRef(c, key);
    if (ref !== undefined && throwOnMissing && isMissing(ref.value)) {
      throw new OmegaConfError('MissingMandatoryValue', `Missing mandatory value: ${fullKeyOf(ref)}`);
    }
    return ref;
  }

  /** `_select_impl`: resolves intermediate and final interpolations; undefined when the key is not there. */
  selectImpl(base: Ref, key: string, throwOnMissing: boolean, memo?: Memo): Out | undefined {
    if (key === '') return { value: base.value, ref: base };
    const parts = splitKey(key);
    let cur: Ref | undefined = base;
    for (let i = 0; i < parts.length - 1; i++) {
      const r = this.selectOne(cur, parts[i]!, throwOnMissing);
      if (r === undefined) return undefined;
      const d = this.deref(r, memo ?? new Map());
      if (!isContainer(d.value)) {
        throw new OmegaConfError(
          'ConfigTypeError',
          `Error trying to access ${key}: node \`${parts.slice(0, i + 1).join('.')}\` is not a container and thus cannot contain \`${parts[i + 1]}\``,
        );
      }
      cur = d.ref ?? { value: d.value, parent: r.parent, key: r.key };
    }
    const last = this.selectOne(cur, parts[parts.length - 1]!, throwOnMissing);
    if (last === undefined) return undefined;
    if (memo === undefined) return this.deref(last);
    const id = nodeId(last);
    if (memo.has(id)) {
      const chain = [...memo.values(), fullKeyOf(last)];
      throw new OmegaConfError('InterpolationResolutionError', `Recursive interpolation detected: ${chain.join(' -> ')}`);
    }
    memo.set(id, fullKeyOf(last));
    try {
      return this.deref(last, memo);
    } finally {
      memo.delete(id);
    }
  }

  /** `select_node(cfg, key, absolute_key=True)` from a resolver's parent: relative keys from it, others from the root. */
  private selectFrom(parent: Ref, key: string, throwOnMissing: boolean): Out | undefined {
    let base: Ref;
    let k = key;
    if (!k.startsWith('.')) base = topOf(parent);
    else {
      base = parent;
      for (;;) {
        k = k.slice(1);
        if (!k.startsWith('.')) break;
        if (base.parent === null) throw new OmegaConfError('ConfigKeyError', `Error resolving key '${key}'`);
        base = base.parent;
      }
    }
    try {
      return this.selectImpl(base, k, throwOnMissing);
    } catch (e) {
      if (e instanceof OmegaConfError && e.className === 'ConfigTypeError') return undefined;
      throw e;
    }
  }

  private element(e: Element, parent: Ref, node: Ref, memo: Memo): ConfigValue {
    switch (e.kind) {
      case 'quoted':
        return e.text === null ? '' : pyStr(this.text(e.text, parent, node, memo).value);
      case 'list':
        this.enter();
        try {
          return e.items.map((x) => this.element(x.element, parent, node, memo));
        } finally {
          this.depth--;
        }
      case 'dict': {
        const out: ConfigDict = {};
        this.enter();
        try {
          for (const { key, value } of e.entries) out[pyStr(primitiveValue(key))] = this.element(value, parent, node, memo);
        } finally {
          this.depth--;
        }
        return out;
      }
      case 'prim': {
        if (e.tokens.length === 1) {
          const t = e.tokens[0]!;
          if ('type' in t) return primitiveValue([t]);
          return this.interp(t, parent, node, memo).value;
        }
        let s = '';
        for (const t of e.tokens) s = checkedLength(node, s + ('type' in t ? (t.type === 'ESC' ? everyOther(t.text) : t.text) : pyStr(this.interp(t, parent, node, memo).value)));
        return s;
      }
    }
  }

  private callResolver(name: string, args: ConfigValue[], argsText: string[], parent: Ref, node: Ref): Out {
    const custom = this.ctx.resolvers?.[name];
    if (custom !== undefined) return { value: custom(args, { argsText, nodeKey: fullKeyOf(node), root: topOf(parent).value as ConfigDict }) };
    switch (name) {
      case 'oc.env': {
        argCount('env', args, 1, 2, ['key', 'default']);
        const key = args[0]!;
        if (typeof key !== 'string') throw new PyError('TypeError', `str expected, not ${pyTypeName(key)}`);
        const v = this.ctx.env[key];
        if (v !== undefined) return { value: v };
        if (args.length === 2) return { value: args[1] === null ? null : pyStr(args[1]) };
        throw new PyError('KeyError', pyStringRepr(`Environment variable '${key}' not found`));
      }
      case 'oc.select': {
        argCount('select', args, 1, 2, ['key', 'default']);
        const key = args[0]!;
        if (typeof key !== 'string') throw new PyError('AttributeError', `'${pyTypeName(key)}' object has no attribute 'startswith'`);
        const found = this.selectFrom(parent, key, false);
        if (found === undefined || isMissing(found.value)) return { value: args.length === 2 ? args[1]! : null };
        return found;
      }
      case 'oc.decode': {
        argCount('decode', args, 1, 1, ['expr']);
        const expr = args[0]!;
        if (expr === null) return { value: null };
        if (typeof expr !== 'string') {
          throw new PyError('TypeError', `\`oc.decode\` can only take strings or None as input, but \`${pyStr(expr)}\` is of type ${pyTypeName(expr)}`);
        }
        return { value: this.element(parseSingleElement(expr), parent, node, new Map()) };
      }
      case 'oc.create': {
        argCount('create', args, 1, 1, ['obj']);
        let obj: ConfigValue = args[0]!;
        if (typeof obj === 'string') {
          // YAML parsing is the slow step of a resolution: its input is bounded on its own.
          this.yamlChars += obj.length;
          if (this.yamlChars > MAX_CREATE_CHARS) {
            throw new PyError('ValueError', `oc.create was given more than ${MAX_CREATE_CHARS} characters of YAML in one resolution (at '${fullKeyOf(node)}')`);
          }
          obj = loadConfig(obj, '<oc.create>');
        }
        if (obj === null) return { value: null };
        if (!isContainer(obj)) throw new PyError('ValidationError', `Input data must be a dict, list, or str (got ${pyTypeName(obj)})`);
        const value = cloneValue(obj);
        return { value, ref: { value, parent, key: node.key } };
      }
      case 'oc.deprecated': {
        argCount('deprecated', args, 1, 2, ['key', 'message']);
        const key = args[0]!;
        const message = args.length > 1 ? args[1]! : "'$OLD_KEY' is deprecated. Change your code and config to use '$NEW_KEY'";
        if (typeof key !== 'string') throw new PyError('TypeError', `oc.deprecated: interpolation key type is not a string (${pyTypeName(key)})`);
        if (typeof message !== 'string') throw new PyError('TypeError', `oc.deprecated: interpolation message type is not a string (${pyTypeName(message)})`);
        const oldKey = fullKeyOf(node);
        const target = this.selectFrom(parent, key, false);
        if (target === undefined) throw new OmegaConfError('ConfigKeyError', `In oc.deprecated resolver at '${oldKey}': Key not found: '${key}'`);
        const newKey = target.ref ? fullKeyOf(target.ref) : key.replace(/^\.+/, '');
        const text = message.replace(/\$(?:\{(OLD_KEY|NEW_KEY)\}|(OLD_KEY|NEW_KEY))/g, (_m, a?: string, b?: string) => ((a ?? b) === 'OLD_KEY' ? oldKey : newKey));
        (this.ctx.warn ?? ((m: string) => process.stderr.write(`UserWarning: ${m}\n`)))(text);
        return target;
      }
      case 'oc.dict.keys':
      case 'oc.dict.values': {
        argCount(name === 'oc.dict.keys' ? 'keys' : 'values', args, 1, 1, ['key']);
        const key = args[0]!;
        if (typeof key !== 'string') {
          throw new PyError('TypeError', `\`${name}\` requires a string as input, but obtained \`${pyStr(key)}\` of type: ${pyTypeName(key)}`);
        }
        const found = this.selectFrom(parent, key, true);
        if (found === undefined) throw new OmegaConfError('ConfigKeyError', `Key not found: '${key}'`);
        if (!isDict(found.value)) throw new PyError('TypeError', `\`${name}\` cannot be applied to objects of type: ${pyTypeName(found.value)}`);
        const keys = Object.keys(found.value);
        const value: ConfigValue[] =
          name === 'oc.dict.keys' ? keys : keys.map((k) => `\${${key.startsWith('.') ? '.' + key : key}.${k}}`);
        return { value, ref: { value, parent, key: node.key } };
      }
      case 'now': {
        argCount('<lambda>', args, 1, 1, ['pattern']);
        const pattern = args[0]!;
        if (typeof pattern !== 'string') throw new PyError('TypeError', `strftime() argument 1 must be str, not ${pyTypeName(pattern)}`);
        let cache = nowCaches.get(this.ctx);
        if (cache === undefined) nowCaches.set(this.ctx, (cache = new Map()));
        let v = cache.get(pattern);
        if (v === undefined) cache.set(pattern, (v = strftime(pattern, (this.ctx.now ?? (() => new Date()))())));
        return { value: v };
      }
      case 'hydra': {
        argCount('<lambda>', args, 1, 1, ['path']);
        const path = args[0]!;
        const rootValue = this.root.value as ConfigDict;
        const hydra = this.ctx.hydra ?? (isDict(rootValue.hydra) ? rootValue.hydra : undefined);
        if (hydra === undefined) throw new PyError('ValueError', 'HydraConfig was not set');
        if (typeof path !== 'string') throw new PyError('AttributeError', `'${pyTypeName(path)}' object has no attribute 'startswith'`);
        // HydraConfig's node has the whole config as its parent, so its own interpolations see the job config.
        const top: Ref = { value: { ...rootValue, hydra }, parent: null, key: null };
        const hydraRef = childRef(top, 'hydra');
        let found: Out | undefined;
        try {
          found = path.startsWith('.') ? this.selectFrom(hydraRef, path, false) : this.selectImpl(hydraRef, path, false);
        } catch (e) {
          if (e instanceof OmegaConfError && e.className === 'ConfigTypeError') found = undefined;
          else throw e;
        }
        if (found === undefined || isMissing(found.value)) return { value: null };
        return found;
      }
      default:
        throw new OmegaConfError('UnsupportedInterpolationType', `Unsupported interpolation type ${name}`);
    }
  }

  decode(text: string, parent: Ref): ConfigValue {
    return this.element(parseSingleElement(text), parent, { value: text, parent, key: null }, new Map());
  }

  /** `to_container(resolve=True)` of the container at `ref`. */
  toContainer(ref: Ref, throwOnMissing: boolean): ConfigValue {
    const c = ref.value;
    this.nodes += Array.isArray(c) ? c.length : Object.keys(c as ConfigDict).length;
    if (this.nodes > MAX_RESOLVED_NODES) {
      throw new OmegaConfError('InterpolationResolutionError', `the resolved config would hold more than ${MAX_RESOLVED_NODES} values (references to references multiply): ${fullKeyOf(ref) || '<root>'}`);
    }
    if (Array.isArray(c)) return c.map((_, i) => this.resolvedChild(childRef(ref, i), throwOnMissing));
    const out: ConfigDict = {};
    for (const k of Object.keys(c as ConfigDict)) {
      const v = this.resolvedChild(childRef(ref, k), throwOnMissing);
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    return out;
  }

  private resolvedChild(ref: Ref, throwOnMissing: boolean): ConfigValue {
    let out: Out;
    try {
      out = this.deref(ref);
    } catch (e) {
      if (e instanceof OmegaConfError) {
        if (this.missingInterpolations === 'missing' && e.className === 'InterpolationToMissingValueError') return MISSING;
        noteHolder(e, ref);
      }
      throw e;
    }
    if (isContainer(out.value)) {
      if (out.ref === undefined) return cloneValue(out.value);
      this.enter();
      try {
        return this.toContainer(out.ref, throwOnMissing);
      } finally {
        this.depth--;
      }
    }
    if (throwOnMissing && isMissing(out.value)) throw new OmegaConfError('MissingMandatoryValue', `Missing mandatory value: ${fullKeyOf(ref)}`);
    return out.value;
  }
}

const containerIds = new WeakMap<object, number>();
let nextContainerId = 1;

function nodeId(ref: Ref): string {
  const parent = ref.parent?.value;
  if (typeof parent !== 'object' || parent === null) return `?:${String(ref.key)}`;
  let id = containerIds.get(parent);
  if (id === undefined) containerIds.set(parent, (id = nextContainerId++));
  return `${id}:${String(ref.key)}`;
}

function primitiveValue(tokens: Token[]): ConfigValue {
  if (tokens.length === 1) {
    const t = tokens[0]!;
    switch (t.type) {
      case 'NULL':
        return null;
      case 'INT': {
        const big = BigInt(t.text.replace(/_/g, ''));
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      case 'FLOAT': {
        const s = t.text.replace(/_/g, '').toLowerCase();
        const body = s.replace(/^[+-]/, '');
        const sign = s.startsWith('-') ? -1 : 1;
        if (body === 'inf') return new Float(sign * Infinity);
        if (body === 'nan') return new Float(NaN);
        return new Float(Number(s));
      }
      case 'BOOL':
        return t.text.toLowerCase() === 'true';
      case 'ESC':
        return everyOther(t.text);
      default:
        return t.text;
    }
  }
  return tokens.map((t) => (t.type === 'ESC' ? everyOther(t.text) : t.text)).join('');
}

/** A resolved string, refused when a chain of interpolations has made it too long. */
function checkedLength(node: Ref, s: string): string {
  if (s.length > MAX_RESOLVED_CHARS) {
    throw new OmegaConfError('InterpolationResolutionError', `the value of '${fullKeyOf(node)}' would resolve to more than ${MAX_RESOLVED_CHARS} characters`);
  }
  return s;
}

/** `resolve_parse_tree`'s wrapping: resolution errors pass, anything else becomes InterpolationResolutionError. */
function wrapError(e: unknown): unknown {
  if (isResolutionError(e)) return e;
  if (e instanceof PyError) return new OmegaConfError('InterpolationResolutionError', `${e.pyType} raised while resolving interpolation: ${e.message}`, { cause: e });
  if (e instanceof OmegaConfError) return new OmegaConfError('InterpolationResolutionError', `${e.className} raised while resolving interpolation: ${e.msg}`, { cause: e });
  if (e instanceof Error && !(e instanceof RangeError)) {
    return new OmegaConfError('InterpolationResolutionError', `${e.name} raised while resolving interpolation: ${e.message}`, { cause: e });
  }
  return e;
}

export interface ResolveAllOptions {
  /** Throw MissingMandatoryValue for `???` values instead of keeping them (to_container's throw_on_missing). */
  throwOnMissing?: boolean;
  /**
   * 'missing': an interpolation that reaches a `???` value resolves to `???`, as `OmegaConf.resolve` (what
   * Hydra's `--cfg … --resolve` runs) does; 'throw' (default): InterpolationToMissingValueError, as to_container.
   */
  missingInterpolations?: 'throw' | 'missing';
}

/** The key whose value failed to resolve, remembered on the error (its message stays OmegaConf's). */
const holders = new WeakMap<OmegaConfError, { key: string; objectType: string }>();

function noteHolder(e: OmegaConfError, ref: Ref): void {
  if (holders.has(e) || e.fullKey !== undefined) return;
  holders.set(e, { key: fullKeyOf(ref), objectType: Array.isArray(ref.parent?.value) ? 'list' : 'dict' });
}

/**
 * A resolution error of resolveAll/resolveAt with the key that holds the failing value named, as
 * OmegaConf names it on attribute access (`full_key: a.b`); other errors come back unchanged.
 */
export function withFailingKey(e: unknown): unknown {
  if (!(e instanceof OmegaConfError)) return e;
  const h = holders.get(e);
  if (h === undefined) return e;
  return new OmegaConfError(e.className as OmegaConfErrorClass, e.msg, { fullKey: h.key, objectType: h.objectType, cause: e });
}

/**
 * `OmegaConf.to_container(cfg, resolve=True)`: a new, fully resolved copy of `root`. `???` values stay
 * unless `throwOnMissing`. The input is not modified.
 */
export function resolveAll(root: ConfigDict, ctx: ResolveContext, opts: ResolveAllOptions = {}): ConfigDict {
  const top: Ref = { value: root, parent: null, key: null };
  return new Session(ctx, top, opts.missingInterpolations).toContainer(top, opts.throwOnMissing ?? false) as ConfigDict;
}

/**
 * The resolved value at `key` (`a.b`, `a[0]`, ...), deep-resolved when it is a container; undefined where the
 * key does not exist. A `???` value throws MissingMandatoryValue ("Missing mandatory value: a.b").
 */
export function resolveAt(root: ConfigDict, key: string, ctx: ResolveContext, opts: Pick<ResolveAllOptions, 'missingInterpolations'> = {}): ConfigValue | undefined {
  const top: Ref = { value: root, parent: null, key: null };
  const s = new Session(ctx, top, opts.missingInterpolations);
  let found: Out | undefined;
  try {
    found = s.selectImpl(top, key, true);
  } catch (e) {
    if (e instanceof OmegaConfError && e.className === 'ConfigTypeError') return undefined;
    throw e;
  }
  if (found === undefined) return undefined;
  if (isMissing(found.value)) throw new OmegaConfError('MissingMandatoryValue', `Missing mandatory value: ${key}`);
  if (isContainer(found.value)) return found.ref ? s.toContainer(found.ref, false) : cloneValue(found.value);
  return found.value;
}

/**
 * Resolves a string as if it were the value at `parentPath` + `key` in `root` (e.g. an interpolation in
 * Hydra's defaults list, evaluated against a config of group choices). Non-interpolation strings come back unchanged.
 */
export function resolveValueIn(root: ConfigDict, parentPath: readonly PathKey[], value: string, ctx: ResolveContext): ConfigValue {
  if (!isInterpolation(value)) return value;
  let ref: Ref = { value: root, parent: null, key: null };
  for (const k of parentPath) ref = childRef(ref, k);
  const s = new Session(ctx, { value: root, parent: null, key: null });
  const node: Ref = { value, parent: ref, key: null };
  const out = s.resolveString(value, ref, node, new Map());
  if (isContainer(out.value)) return out.ref ? s.toContainer(out.ref, false) : cloneValue(out.value);
  return out.value;
}

/**
 * `oc.decode` on a string: parses it as one element of the grammar (`[1, 2]`, `{a: b}`, `1e3`, `'q'`,
 * `${x}`) and evaluates it as if it sat at `parentPath` in `root`.
 */
export function decodeElement(text: string, root: ConfigDict, ctx: ResolveContext, parentPath: readonly PathKey[] = []): ConfigValue {
  let ref: Ref = { value: root, parent: null, key: null };
  for (const k of parentPath) ref = childRef(ref, k);
  const s = new Session(ctx, { value: root, parent: null, key: null });
  try {
    return s.decode(text, ref);
  } catch (e) {
    throw wrapError(e);
  }
}
