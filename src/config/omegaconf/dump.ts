import { type ConfigValue, Float, isDict } from '../values.js';
import { pyIsFloat, pyIsInt, resolvePlainTag, YAML_BOOL_TYPES } from './scalars.js';

/**
 * `OmegaConf.to_yaml` output: PyYAML's emitter (block style, indent 2, width 80, allow_unicode, insertion
 * order) with OmegaConf's string representer (strings that read back as bool/int/float are single-quoted).
 * The emitter's state machine is reproduced closely, because line folding depends on exact columns.
 */
export function toYaml(value: ConfigValue): string {
  const e = new Emitter();
  e.node(value, { root: true, mapping: false, simpleKey: false });
  e.writeIndentAtEnd();
  return e.out.join('');
}

const BEST_WIDTH = 80;
const BEST_INDENT = 2;
const BREAKS = '\n\u0085\u2028\u2029';
const WHITESPACE = '\0 \t\r\n\u0085\u2028\u2029';

interface Analysis {
  empty: boolean;
  multiline: boolean;
  allowFlowPlain: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
}

/** PyYAML's Emitter.analyze_scalar (allow_unicode=True), over code points. */
function analyze(chars: string[]): Analysis {
  if (chars.length === 0) return { empty: true, multiline: false, allowFlowPlain: false, allowBlockPlain: true, allowSingleQuoted: true };
  let blockIndicators = false;
  let flowIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  const text = chars.join('');
  if (text.startsWith('---') || text.startsWith('...')) blockIndicators = flowIndicators = true;
  let precededByWs = true;
  let followedByWs = chars.length === 1 || WHITESPACE.includes(chars[1]!);
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) flowIndicators = blockIndicators = true;
      if (ch === '?' || ch === ':') {
        flowIndicators = true;
        if (followedByWs) blockIndicators = true;
      }
      if (ch === '-' && followedByWs) flowIndicators = blockIndicators = true;
    } else {
      if (',?[]{}'.includes(ch)) flowIndicators = true;
      if (ch === ':') {
        flowIndicators = true;
        if (followedByWs) blockIndicators = true;
      }
      if (ch === '#' && precededByWs) flowIndicators = blockIndicators = true;
    }
    if (BREAKS.includes(ch)) lineBreaks = true;
    const c = ch.codePointAt(0)!;
    if (!(ch === '\n' || (c >= 0x20 && c <= 0x7e))) {
      const printable =
        (c === 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c < 0x10ffff)) && c !== 0xfeff;
      if (!printable) special = true;
    }
    if (ch === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = previousBreak = false;
    }
    precededByWs = WHITESPACE.includes(ch);
    followedByWs = i + 2 >= chars.length || WHITESPACE.includes(chars[i + 2]!);
  }
  let allowFlowPlain = true;
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowFlowPlain = allowBlockPlain = false;
  if (breakSpace) allowFlowPlain = allowBlockPlain = allowSingleQuoted = false;
  if (spaceBreak || special) allowFlowPlain = allowBlockPlain = allowSingleQuoted = false;
  if (lineBreaks) allowFlowPlain = allowBlockPlain = false;
  if (flowIndicators) allowFlowPlain = false;
  if (blockIndicators) allowBlockPlain = false;
  return { empty: false, multiline: lineBreaks, allowFlowPlain, allowBlockPlain, allowSingleQuoted };
}

const ESCAPES: Record<string, string> = {
  '\0': '0', '\x07': 'a', '\x08': 'b', '\x09': 't', '\x0A': 'n', '\x0B': 'v', '\x0C': 'f', '\x0D': 'r',
  '\x1B': 'e', '"': '"', '\\': '\\', '\u0085': 'N', '\u00A0': '_', '\u2028': 'L', '\u2029': 'P',
};

interface Ctx {
  root: boolean;
  mapping: boolean;
  simpleKey: boolean;
}

class Emitter {
  readonly out: string[] = [];
  private column = 0;
  private whitespace = true;
  private indention = true;
  private indent: number | null = null;
  private readonly indents: Array<number | null> = [];

  private write(s: string, width = [...s].length): void {
    this.out.push(s);
    this.column += width;
  }

  private increaseIndent(flow: boolean, indentless = false): void {
    this.indents.push(this.indent);
    if (this.indent === null) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
  }

  private popIndent(): void {
    this.indent = this.indents.pop() ?? null;
  }

  private writeLineBreak(): void {
    this.whitespace = true;
    this.indention = true;
    this.column = 0;
    this.out.push('\n');
  }

  private writeIndent(): void {
    const indent = this.indent ?? 0;
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.writeLineBreak();
    if (this.column < indent) {
      this.whitespace = true;
      this.out.push(' '.repeat(indent - this.column));
      this.column = indent;
    }
  }

  writeIndentAtEnd(): void {
    this.indent = null;
    this.writeIndent();
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, whitespace = false, indention = false): void {
    const data = this.whitespace || !needWhitespace ? indicator : ' ' + indicator;
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
    this.write(data);
  }

  node(v: ConfigValue, ctx: Ctx): void {
    if (Array.isArray(v)) {
      if (v.length === 0) return this.flowEmpty('[', ']');
      this.blockSequence(v, ctx);
    } else if (isDict(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0) return this.flowEmpty('{', '}');
      this.blockMapping(v, keys);
    } else this.scalar(v, ctx);
  }

  private flowEmpty(open: string, close: string): void {
    this.writeIndicator(open, true, true);
    this.writeIndicator(close, false);
  }

  private blockSequence(items: ConfigValue[], ctx: Ctx): void {
    const indentless = ctx.mapping && !this.indention;
    this.increaseIndent(false, indentless);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, { root: false, mapping: false, simpleKey: false });
    }
    this.popIndent();
  }

  private blockMapping(d: Record<string, ConfigValue>, keys: string[]): void {
    this.increaseIndent(false);
    for (const key of keys) {
      this.writeIndent();
      const chars = [...key];
      const a = analyze(chars);
      if (chars.length < 128 && !a.empty && !a.multiline) {
        this.scalar(key, { root: false, mapping: true, simpleKey: true });
        this.writeIndicator(':', false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.scalar(key, { root: false, mapping: true, simpleKey: false });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.node(d[key]!, { root: false, mapping: true, simpleKey: false });
    }
    this.popIndent();
  }

  private scalar(v: Exclude<ConfigValue, ConfigValue[] | Record<string, ConfigValue>>, ctx: Ctx): void {
    let text: string;
    let style: "'" | null = null;
    let implicit: boolean;
    if (typeof v === 'string') {
      text = v;
      if (YAML_BOOL_TYPES.has(v) || pyIsInt(v) || pyIsFloat(v)) style = "'";
      implicit = resolvePlainTag(v, true) === 'str';
    } else {
      text = representScalar(v);
      implicit = true;
    }
    this.increaseIndent(true);
    const chars = [...text];
    const a = analyze(chars);
    const split = !ctx.simpleKey;
    let chosen: 'plain' | "'" | '"';
    if (style === null && implicit && !(ctx.simpleKey && (a.empty || a.multiline)) && a.allowBlockPlain) chosen = 'plain';
    else if (a.allowSingleQuoted && !(ctx.simpleKey && a.multiline)) chosen = "'";
    else chosen = '"';
    if (chosen === 'plain') this.writePlain(chars, split);
    else if (chosen === "'") this.writeSingleQuoted(chars, split);
    else this.writeDoubleQuoted(chars, split);
    this.popIndent();
  }

  private writePlain(chars: string[], split: boolean): void {
    if (chars.length === 0) return;
    if (!this.whitespace) this.write(' ');
    this.whitespace = false;
    this.indention = false;
    let spaces = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end]! : null;
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split) {
            this.writeIndent();
            this.whitespace = false;
            this.indention = false;
          } else this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
      } else if (ch === null || ch === ' ' || BREAKS.includes(ch)) {
        this.write(chars.slice(start, end).join(''), end - start);
        start = end;
      }
      if (ch !== null) spaces = ch === ' ';
    }
  }

  private writeSingleQuoted(chars: string[], split: boolean): void {
    this.writeIndicator("'", true);
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end]! : null;
      if (spaces) {
        if (ch === null || ch !== ' ') {
          if (start + 1 === end && this.column > BEST_WIDTH && split && start !== 0 && end !== chars.length) this.writeIndent();
          else this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
      } else if (breaks) {
        if (ch === null || !BREAKS.includes(ch)) {
          if (chars[start] === '\n') this.writeLineBreak();
          for (const br of chars.slice(start, end)) {
            if (br === '\n') this.writeLineBreak();
            else {
              this.writeLineBreak();
              this.out[this.out.length - 1] = br;
            }
          }
          this.writeIndent();
          start = end;
        }
      } else if (ch === null || ch === ' ' || BREAKS.includes(ch) || ch === "'") {
        if (start < end) {
          this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
      }
      if (ch === "'") {
        this.write("''", 2);
        start = end + 1;
      }
      if (ch !== null) {
        spaces = ch === ' ';
        breaks = BREAKS.includes(ch);
      }
    }
    this.writeIndicator("'", false);
  }

  private writeDoubleQuoted(chars: string[], split: boolean): void {
    this.writeIndicator('"', true);
    let start = 0;
    for (let end = 0; end <= chars.length; end++) {
      const ch = end < chars.length ? chars[end]! : null;
      const c = ch === null ? 0 : ch.codePointAt(0)!;
      if (
        ch === null ||
        '"\\\u0085\u2028\u2029\uFEFF'.includes(ch) ||
        !((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd))
      ) {
        if (start < end) {
          this.write(chars.slice(start, end).join(''), end - start);
          start = end;
        }
        if (ch !== null) {
          let data: string;
          if (ESCAPES[ch] !== undefined) data = '\\' + ESCAPES[ch];
          else if (c <= 0xff) data = '\\x' + c.toString(16).toUpperCase().padStart(2, '0');
          else if (c <= 0xffff) data = '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
          else data = '\\U' + c.toString(16).toUpperCase().padStart(8, '0');
          this.write(data);
          start = end + 1;
        }
      }
      if (end > 0 && end < chars.length - 1 && (ch === ' ' || start >= end) && this.column + (end - start) > BEST_WIDTH && split) {
        const data = chars.slice(start, end).join('') + '\\';
        const width = end - start + 1;
        if (start < end) start = end;
        this.write(data, width);
        this.writeIndent();
        this.whitespace = false;
        this.indention = false;
        if (chars[start] === ' ') this.write('\\');
      }
    }
    this.writeIndicator('"', false);
  }
}

/** PyYAML's representers for non-string scalars. */
function representScalar(v: ConfigValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    // A plain number is an int by the data model; guard against a stray non-integer.
    return Number.isInteger(v) ? String(v) : representFloat(v);
  }
  if (typeof v === 'bigint') return String(v);
  if (v instanceof Float) return representFloat(v.value);
  return String(v);
}

/** PyYAML's represent_float: `.nan`, `.inf`, `-.inf`, else `repr(x).lower()` with `.0` put before a bare exponent. */
export function representFloat(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (x === Infinity) return '.inf';
  if (x === -Infinity) return '-.inf';
  let s = new Float(x).toString().toLowerCase();
  if (!s.includes('.') && s.includes('e')) s = s.replace('e', '.0e');
  return s;
}
