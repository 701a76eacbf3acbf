import { type ConfigDict, type ConfigValue, isDict } from '../values.js';
import { OmegaConfError } from './errors.js';
import { childOf, type PathKey, splitKey } from './keys.js';

/**
 * OmegaConf's interpolation grammar (OmegaConfGrammarLexer.g4 / OmegaConfGrammarParser.g4, v2.3), as a
 * hand-written lexer with the same modes and longest-match rules, and a recursive-descent parser that
 * builds a small AST. Evaluation lives in resolve.ts.
 */

export const MISSING = '???';

export function isMissing(v: ConfigValue | undefined): boolean {
  return v === MISSING;
}

/** OmegaConf treats any string containing `${` as an interpolation (escaped ones included: they must be un-escaped). */
export function isInterpolation(v: ConfigValue | undefined): v is string {
  return typeof v === 'string' && v.includes('${');
}

// ---------------------------------------------------------------- AST

/** A piece of text: literal strings and interpolations; `single` when it is exactly one interpolation. */
export interface TextNode {
  kind: 'text';
  parts: TextPart[];
}
export type TextPart = { kind: 'lit'; text: string } | Interp;

export type Interp = NodeInterp | ResolverInterp;

/** `${a.b[c]}`: the key is rebuilt from its pieces (some may be nested interpolations). */
export interface NodeInterp {
  kind: 'node';
  pieces: Array<string | Interp>;
  source: string;
}

export interface ResolverInterp {
  kind: 'resolver';
  name: Array<string | Interp>;
  args: Array<{ element: Element; text: string }>;
  source: string;
}

export type Element =
  | { kind: 'prim'; tokens: Array<Token | Interp> }
  | { kind: 'quoted'; text: TextNode | null }
  | { kind: 'list'; items: Array<{ element: Element; text: string }> }
  | { kind: 'dict'; entries: Array<{ key: Token[]; value: Element }> };

// ---------------------------------------------------------------- lexer

type Mode = 'DEFAULT' | 'VALUE' | 'INTER' | 'QSINGLE' | 'QDOUBLE';
export type TokenType =
  | 'INTER_OPEN' | 'INTER_CLOSE' | 'ANY_STR' | 'ESC_INTER' | 'TOP_ESC' | 'QUOTED_ESC' | 'ESC'
  | 'BRACE_OPEN' | 'BRACE_CLOSE' | 'QUOTE_OPEN_SINGLE' | 'QUOTE_OPEN_DOUBLE' | 'MATCHING_QUOTE_CLOSE'
  | 'COMMA' | 'BRACKET_OPEN' | 'BRACKET_CLOSE' | 'COLON' | 'FLOAT' | 'INT' | 'BOOL' | 'NULL'
  | 'UNQUOTED_CHAR' | 'ID' | 'WS' | 'DOT' | 'INTER_KEY' | 'EOF';

export interface Token {
  type: TokenType;
  text: string;
  pos: number;
}

const WS_RE = /[ \t]+/y;
const ID_RE = /[a-zA-Z_][a-zA-Z0-9_-]*/y;
const INT_UNSIGNED = '(?:0|[1-9](?:_?[0-9])*)';
const POINT_FLOAT = `(?:${INT_UNSIGNED}?\\.[0-9](?:_?[0-9])*|${INT_UNSIGNED}\\.)`;
const EXPONENT_FLOAT = `(?:(?:${POINT_FLOAT}|${INT_UNSIGNED})[eE][+-]?[0-9](?:_?[0-9])*)`;
const FLOAT_RE = new RegExp(`[+-]?(?:${EXPONENT_FLOAT}|${POINT_FLOAT}|[Ii][Nn][Ff]|[Nn][Aa][Nn])`, 'y');
const INT_RE = new RegExp(`[+-]?${INT_UNSIGNED}`, 'y');
const BOOL_RE = /[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]/y;
const NULL_RE = /[Nn][Uu][Ll][Ll]/y;
const UNQUOTED_CHAR_RE = /[/\-\\+.$%*@?|]/y;
const ESC_RE = /(?:\\\\|\\\(|\\\)|\\\[|\\\]|\\\{|\\\}|\\:|\\=|\\,|\\ |\\\t)+/y;
const INTER_KEY_RE = /[^\\{}()[\]:. \t'"]+/y;
const ESC_INTER_RE = /(?:\\\\)*\\\$\{/y;
const EVEN_BACKSLASHES_RE = /(?:\\\\)+/y;
const BACKSLASHES_RE = /\\+/y;

function matchAt(re: RegExp, s: string, pos: number): string | null {
  re.lastIndex = pos;
  const m = re.exec(s);
  return m === null ? null : m[0];
}

/** ANY_STR-like run: chars not in `stop` (never `$`), not ending with a backslash. */
function anyStr(s: string, pos: number, stop: string): string | null {
  let end = pos;
  while (end < s.length && !stop.includes(s[end]!)) end++;
  while (end > pos && s[end - 1] === '\\') end--;
  return end > pos ? s.slice(pos, end) : null;
}

export class GrammarError extends OmegaConfError {
  constructor(msg: string) {
    super('GrammarParseError', msg);
  }
}

/** Tokenizes `s` starting in `mode`, following the lexer's mode stack. */
export function tokenize(s: string, startMode: Mode): Token[] {
  const tokens: Token[] = [];
  const modes: Mode[] = [startMode];
  let pos = 0;
  const push = (type: TokenType, text: string): void => {
    tokens.push({ type, text, pos });
    pos += text.length;
  };
  while (pos < s.length) {
    const mode = modes[modes.length - 1]!;
    // Candidates in rule order; the longest wins, ties go to the earlier rule (ANTLR's rule).
    const cands: Array<[TokenType, string | null, (() => void) | null]> = [];
    const ws = matchAt(WS_RE, s, pos) ?? '';
    const after = pos + ws.length;
    if (mode === 'DEFAULT' || mode === 'QSINGLE' || mode === 'QDOUBLE') {
      const stop = mode === 'DEFAULT' ? '$' : mode === 'QSINGLE' ? "'$" : '"$';
      cands.push(['INTER_OPEN', s.startsWith('${', pos) ? '${' + (matchAt(WS_RE, s, pos + 2) ?? '') : null, () => modes.push('INTER')]);
      if (mode !== 'DEFAULT') {
        const q = mode === 'QSINGLE' ? "'" : '"';
        cands.push(['MATCHING_QUOTE_CLOSE', s[pos] === q ? q : null, () => modes.pop()]);
      }
      cands.push(['ANY_STR', anyStr(s, pos, stop), null]);
      cands.push(['ESC_INTER', matchAt(ESC_INTER_RE, s, pos), null]);
      if (mode === 'DEFAULT') cands.push(['TOP_ESC', matchAt(EVEN_BACKSLASHES_RE, s, pos), null]);
      else {
        const q = mode === 'QSINGLE' ? "'" : '"';
        const escQuote = new RegExp(`(?:\\\\\\\\)*\\\\${q}`, 'y');
        cands.push(['ESC', matchAt(escQuote, s, pos), null]);
        cands.push(['QUOTED_ESC', matchAt(EVEN_BACKSLASHES_RE, s, pos), null]);
      }
      cands.push(['ANY_STR', matchAt(BACKSLASHES_RE, s, pos), null]);
      cands.push(['ANY_STR', s[pos] === '$' ? '$' : null, null]);
    } else if (mode === 'VALUE') {
      cands.push(['INTER_OPEN', s.startsWith('${', pos) ? '${' + (matchAt(WS_RE, s, pos + 2) ?? '') : null, () => modes.push('INTER')]);
      cands.push(['BRACE_OPEN', s[pos] === '{' ? '{' + (matchAt(WS_RE, s, pos + 1) ?? '') : null, () => modes.push('VALUE')]);
      cands.push(['BRACE_CLOSE', s[after] === '}' ? ws + '}' : null, () => modes.pop()]);
      cands.push(['QUOTE_OPEN_SINGLE', s[pos] === "'" ? "'" : null, () => modes.push('QSINGLE')]);
      cands.push(['QUOTE_OPEN_DOUBLE', s[pos] === '"' ? '"' : null, () => modes.push('QDOUBLE')]);
      cands.push(['COMMA', s[after] === ',' ? ws + ',' + (matchAt(WS_RE, s, after + 1) ?? '') : null, null]);
      cands.push(['BRACKET_OPEN', s[pos] === '[' ? '[' + (matchAt(WS_RE, s, pos + 1) ?? '') : null, null]);
      cands.push(['BRACKET_CLOSE', s[after] === ']' ? ws + ']' : null, null]);
      cands.push(['COLON', s[after] === ':' ? ws + ':' + (matchAt(WS_RE, s, after + 1) ?? '') : null, null]);
      cands.push(['FLOAT', matchAt(FLOAT_RE, s, pos), null]);
      cands.push(['INT', matchAt(INT_RE, s, pos), null]);
      cands.push(['BOOL', matchAt(BOOL_RE, s, pos), null]);
      cands.push(['NULL', matchAt(NULL_RE, s, pos), null]);
      cands.push(['UNQUOTED_CHAR', matchAt(UNQUOTED_CHAR_RE, s, pos), null]);
      cands.push(['ID', matchAt(ID_RE, s, pos), null]);
      cands.push(['ESC', matchAt(ESC_RE, s, pos), null]);
      cands.push(['WS', ws || null, null]);
    } else {
      cands.push(['INTER_OPEN', s.startsWith('${', pos) ? '${' + (matchAt(WS_RE, s, pos + 2) ?? '') : null, () => modes.push('INTER')]);
      cands.push([
        'COLON',
        s[after] === ':' ? ws + ':' + (matchAt(WS_RE, s, after + 1) ?? '') : null,
        () => {
          modes[modes.length - 1] = 'VALUE';
        },
      ]);
      cands.push(['INTER_CLOSE', s[after] === '}' ? ws + '}' : null, () => modes.pop()]);
      cands.push(['DOT', s[pos] === '.' ? '.' : null, null]);
      cands.push(['BRACKET_OPEN', s[pos] === '[' ? '[' : null, null]);
      cands.push(['BRACKET_CLOSE', s[pos] === ']' ? ']' : null, null]);
      cands.push(['ID', matchAt(ID_RE, s, pos), null]);
      cands.push(['INTER_KEY', matchAt(INTER_KEY_RE, s, pos), null]);
    }
    let best: [TokenType, string, (() => void) | null] | null = null;
    for (const [type, text, action] of cands) {
      if (text !== null && text.length > 0 && (best === null || text.length > best[1].length)) best = [type, text, action];
    }
    if (best === null) throw new GrammarError(`token recognition error at: '${s[pos]}'`);
    push(best[0], best[1]);
    best[2]?.();
  }
  tokens.push({ type: 'EOF', text: '<EOF>', pos });
  return tokens;
}

// ---------------------------------------------------------------- parser

/**
 * How deeply interpolations, resolver arguments, lists and dicts may nest inside one config string.
 * Counted here rather than left to the JS stack, so a hostile string gets a GrammarParseError, not a
 * RangeError; real configs nest a handful of levels.
 */
export const MAX_INTERPOLATION_NESTING = 100;

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private fail(expecting: string): never {
    const t = this.peek();
    throw new GrammarError(`mismatched input '${clip(t.text)}' expecting ${expecting}\n    (in '${clip(this.source)}')`);
  }
  private expect(type: TokenType): Token {
    if (this.peek().type !== type) this.fail(type);
    return this.next();
  }
  atEnd(): void {
    if (this.peek().type !== 'EOF') this.fail('<EOF>');
  }

  /** text: (interpolation | ANY_STR | ESC | ESC_INTER | TOP_ESC | QUOTED_ESC)+ */
  text(): TextNode {
    const raw: Array<Token | Interp> = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'INTER_OPEN') raw.push(this.interpolation());
      else if (t.type === 'ANY_STR' || t.type === 'ESC' || t.type === 'ESC_INTER' || t.type === 'TOP_ESC' || t.type === 'QUOTED_ESC') raw.push(this.next());
      else break;
    }
    if (raw.length === 0) this.fail('text');
    return { kind: 'text', parts: unescapeParts(raw) };
  }

  private enter(): void {
    if (++this.depth > MAX_INTERPOLATION_NESTING) {
      throw new GrammarError(`interpolations, lists and dicts nest more than ${MAX_INTERPOLATION_NESTING} levels deep\n    (in '${clip(this.source)}')`);
    }
  }

  interpolation(): Interp {
    this.enter();
    const r = this.interpolationBody();
    this.depth--;
    return r;
  }

  private interpolationBody(): Interp {
    const start = this.peek().pos;
    this.expect('INTER_OPEN');
    // Resolver: name (ID or interpolation, dot-separated) followed by COLON.
    let j = 0;
    let isResolver = false;
    for (;;) {
      const t = this.peek(j);
      if (t.type === 'ID') j++;
      else if (t.type === 'INTER_OPEN') {
        j = this.skipInterpolation(j);
        if (j < 0) break;
      } else break;
      const n = this.peek(j);
      if (n.type === 'COLON') {
        isResolver = true;
        break;
      }
      if (n.type !== 'DOT') break;
      j++;
    }
    if (isResolver) {
      const name: Array<string | Interp> = [];
      for (;;) {
        if (this.peek().type === 'ID') name.push(this.next().text);
        else name.push(this.interpolation());
        if (this.peek().type === 'DOT') this.next();
        else break;
      }
      this.expect('COLON');
      const args = this.peek().type === 'BRACE_CLOSE' ? [] : this.sequence('BRACE_CLOSE');
      const end = this.expect('BRACE_CLOSE');
      return { kind: 'resolver', name, args, source: this.source.slice(start, end.pos + end.text.length) };
    }
    const pieces: Array<string | Interp> = [];
    while (this.peek().type === 'DOT') pieces.push(this.next().text);
    let first = true;
    for (;;) {
      const t = this.peek();
      if (t.type === 'BRACKET_OPEN') {
        pieces.push(this.next().text);
        pieces.push(this.configKey());
        pieces.push(this.expect('BRACKET_CLOSE').text);
      } else if (!first && t.type === 'DOT') {
        pieces.push(this.next().text);
        pieces.push(this.configKey());
      } else if (first) pieces.push(this.configKey());
      else break;
      first = false;
    }
    const end = this.expect('INTER_CLOSE');
    return { kind: 'node', pieces, source: this.source.slice(start, end.pos + end.text.length) };
  }

  /** Index after the interpolation starting at offset j, or -1. Only used for lookahead. */
  private skipInterpolation(j: number): number {
    let depth = 0;
    for (let k = j; ; k++) {
      const t = this.peek(k);
      if (t.type === 'EOF') return -1;
      if (t.type === 'INTER_OPEN' || t.type === 'BRACE_OPEN') depth++;
      if (t.type === 'INTER_CLOSE' || t.type === 'BRACE_CLOSE') {
        depth--;
        if (depth === 0) return k + 1;
      }
    }
  }

  private configKey(): string | Interp {
    const t = this.peek();
    if (t.type === 'INTER_OPEN') return this.interpolation();
    if (t.type === 'ID' || t.type === 'INTER_KEY') return this.next().text;
    this.fail('a config key');
  }

  /** sequence: (element (COMMA element?)*) | (COMMA element?)+ — missing elements are empty strings. */
  private sequence(close: TokenType): Array<{ element: Element; text: string }> {
    const out: Array<{ element: Element; text: string }> = [];
    let previousComma = true;
    for (;;) {
      const t = this.peek();
      if (t.type === 'COMMA') {
        if (previousComma) out.push({ element: { kind: 'quoted', text: null }, text: '' });
        previousComma = true;
        this.next();
        continue;
      }
      if (t.type === close || t.type === 'EOF') break;
      if (!previousComma) this.fail("',' or '" + (close === 'BRACE_CLOSE' ? '}' : ']') + "'");
      const start = this.i;
      const element = this.element();
      out.push({ element, text: this.tokens.slice(start, this.i).map((x) => x.text).join('').trim() });
      previousComma = false;
    }
    if (previousComma) out.push({ element: { kind: 'quoted', text: null }, text: '' });
    return out;
  }

  element(): Element {
    this.enter();
    const r = this.elementBody();
    this.depth--;
    return r;
  }

  private elementBody(): Element {
    const t = this.peek();
    if (t.type === 'QUOTE_OPEN_SINGLE' || t.type === 'QUOTE_OPEN_DOUBLE') {
      this.next();
      const text = this.peek().type === 'MATCHING_QUOTE_CLOSE' ? null : this.text();
      this.expect('MATCHING_QUOTE_CLOSE');
      return { kind: 'quoted', text };
    }
    if (t.type === 'BRACKET_OPEN') {
      this.next();
      const items = this.peek().type === 'BRACKET_CLOSE' ? [] : this.sequence('BRACKET_CLOSE');
      this.expect('BRACKET_CLOSE');
      return { kind: 'list', items };
    }
    if (t.type === 'BRACE_OPEN') {
      this.next();
      const entries: Array<{ key: Token[]; value: Element }> = [];
      if (this.peek().type !== 'BRACE_CLOSE') {
        for (;;) {
          const key: Token[] = [];
          while (['ID', 'NULL', 'INT', 'FLOAT', 'BOOL', 'UNQUOTED_CHAR', 'ESC', 'WS'].includes(this.peek().type)) key.push(this.next());
          if (key.length === 0) this.fail('a dictionary key');
          this.expect('COLON');
          entries.push({ key, value: this.element() });
          if (this.peek().type === 'COMMA') this.next();
          else break;
        }
      }
      this.expect('BRACE_CLOSE');
      return { kind: 'dict', entries };
    }
    const tokens: Array<Token | Interp> = [];
    for (;;) {
      const p = this.peek();
      if (p.type === 'INTER_OPEN') tokens.push(this.interpolation());
      else if (['ID', 'NULL', 'INT', 'FLOAT', 'BOOL', 'UNQUOTED_CHAR', 'COLON', 'ESC', 'WS'].includes(p.type)) tokens.push(this.next());
      else break;
    }
    if (tokens.length === 0) this.fail('a value');
    return { kind: 'prim', tokens };
  }
}

/** A long source shortened for an error message. */
function clip(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

/** Applies the visitor's `_unescape` rules to the terminal tokens of a text (interpolations kept as they are). */
function unescapeParts(raw: Array<Token | Interp>): TextPart[] {
  const parts: TextPart[] = [];
  for (let k = 0; k < raw.length; k++) {
    const node = raw[k]!;
    if (!('type' in node)) {
      parts.push(node);
      continue;
    }
    const next = raw[k + 1];
    const nextIsInterp = next !== undefined && !('type' in next);
    let text: string;
    if (node.type === 'ESC_INTER') text = node.text.slice(node.text.length - (Math.floor(node.text.length / 2) + 1));
    else if (node.type === 'ESC' || (node.type === 'TOP_ESC' && nextIsInterp) || (node.type === 'QUOTED_ESC' && (next === undefined || nextIsInterp)))
      text = everyOther(node.text);
    else text = node.text;
    const last = parts[parts.length - 1];
    if (last && last.kind === 'lit') last.text += text;
    else parts.push({ kind: 'lit', text });
  }
  return parts;
}

/** Python's `s[1::2]`. */
export function everyOther(s: string): string {
  let out = '';
  for (let k = 1; k < s.length; k += 2) out += s[k];
  return out;
}

const parseCache = new Map<string, TextNode>();

/** Parses a config string (`configValue` rule). Results are cached: configs repeat the same strings. */
export function parseInterpolation(s: string): TextNode {
  let tree = parseCache.get(s);
  if (tree === undefined) {
    const p = new Parser(tokenize(s, 'DEFAULT'), s);
    tree = s === '' ? { kind: 'text', parts: [] } : p.text();
    p.atEnd();
    if (parseCache.size > 10000) parseCache.clear();
    if (s.length <= 4096) parseCache.set(s, tree);
  }
  return tree;
}

/** Parses a single element in VALUE mode (`singleElement`, as `oc.decode` does). */
export function parseSingleElement(s: string): Element {
  const p = new Parser(tokenize(s, 'VALUE'), s);
  const e = p.element();
  p.atEnd();
  return e;
}

/** Validates the grammar of a string that contains `${`; throws GrammarParseError. */
export function checkInterpolationSyntax(s: string): void {
  if (isInterpolation(s)) parseInterpolation(s);
}

/**
 * For merge: where a whole-string node interpolation (`${a.b}`, `${.x}`, no resolvers) in the dict at
 * `parentPath` points, on raw data, or undefined.
 */
export function nodeInterpolationTarget(root: ConfigDict, parentPath: readonly PathKey[], value: string): ConfigValue | undefined {
  if (!isInterpolation(value)) return undefined;
  let tree: TextNode;
  try {
    tree = parseInterpolation(value);
  } catch {
    return undefined;
  }
  if (tree.parts.length !== 1) return undefined;
  const inter = tree.parts[0]!;
  if (inter.kind !== 'node' || inter.pieces.some((p) => typeof p !== 'string')) return undefined;
  let key = (inter.pieces as string[]).join('');
  const chain: ConfigValue[] = [root];
  for (const k of parentPath) {
    const c = chain[chain.length - 1]!;
    chain.push(Array.isArray(c) ? c[k as number]! : isDict(c) ? c[String(k)]! : null);
  }
  let base: ConfigValue = root;
  if (key.startsWith('.')) {
    let level = chain.length - 1;
    key = key.slice(1);
    while (key.startsWith('.')) {
      key = key.slice(1);
      level--;
      if (level < 0) return undefined;
    }
    base = chain[level]!;
  }
  let node: ConfigValue | undefined = base;
  for (const part of key === '' ? [] : splitKey(key)) {
    if (!(Array.isArray(node) || isDict(node))) return undefined;
    node = childOf(node, part).value;
  }
  return node;
}
