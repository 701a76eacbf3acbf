/**
 * A parsed override with Hydra's `Override` behaviour: its type and key, the typed value, the value
 * written back as text (`hydra.overrides`, `override_dirname`), the value as config data, and the
 * expansion of discrete sweeps.
 */
import { Float, formatFloat, type ConfigDict, type ConfigValue } from '../values.js';
import { OverrideValueError } from './errors.js';
import { shuffled } from './functions.js';
import { decimalAdd, decimalCmp, decimalFrom, decimalStr, decimalToFloat, isPyInt, normInt, pyRepr } from './python.js';
import {
  ChoiceSweep,
  Glob,
  ParsedDict,
  QuotedString,
  RangeSweep,
  isSweep,
  type DictKey,
  type FunctionValue,
  type OverrideValue,
  type ParsedElement,
} from './types.js';

export type OverrideType = 'CHANGE' | 'ADD' | 'FORCE_ADD' | 'DEL';
export type ValueType = 'ELEMENT' | 'SIMPLE_CHOICE_SWEEP' | 'CHOICE_SWEEP' | 'GLOB_CHOICE_SWEEP' | 'RANGE_SWEEP' | 'INTERVAL_SWEEP';

/** One value of an expanded sweep: as parsed, as config data, and as override text. */
export interface SweepValue {
  /** As parsed (a `glob(...)` inside a choice stays a Glob, as in Hydra). */
  element: ParsedElement | Glob;
  value: ConfigValue;
  text: string;
}

/** Sweeps larger than this are refused rather than expanded (`range(0, 10**12)` would never finish). */
export const MAX_SWEEP_VALUES = 1_000_000;

export class Override {
  constructor(
    readonly input: string,
    readonly type: OverrideType,
    readonly keyOrGroup: string,
    readonly package_: string | null,
    readonly valueType: ValueType | null,
    /** The parsed value (`undefined` for `~key` without a value). Quoted strings stay `QuotedString`. */
    readonly value: OverrideValue | undefined,
  ) {}

  get package(): string | null {
    return this.package_;
  }

  isDelete(): boolean {
    return this.type === 'DEL';
  }
  isAdd(): boolean {
    return this.type === 'ADD';
  }
  isForceAdd(): boolean {
    return this.type === 'FORCE_ADD';
  }
  isSweep(): boolean {
    return this.valueType !== null && this.valueType !== 'ELEMENT';
  }
  isChoiceSweep(): boolean {
    return this.valueType === 'SIMPLE_CHOICE_SWEEP' || this.valueType === 'CHOICE_SWEEP' || this.valueType === 'GLOB_CHOICE_SWEEP';
  }
  isDiscreteSweep(): boolean {
    return this.isChoiceSweep() || this.valueType === 'RANGE_SWEEP';
  }
  isHydraOverride(): boolean {
    return this.keyOrGroup.startsWith('hydra.') || this.keyOrGroup.startsWith('hydra/');
  }

  /** The key with its prefix and package: `+db@pkg`, `~seed`, `a.b`. */
  get keyElement(): string {
    const prefix = this.type === 'DEL' ? '~' : this.type === 'ADD' ? '+' : this.type === 'FORCE_ADD' ? '++' : '';
    return prefix + (this.package_ === null ? this.keyOrGroup : `${this.keyOrGroup}@${this.package_}`);
  }

  /** The text after the first `=` of the input, as typed. */
  valueString(): string {
    const i = this.input.indexOf('=');
    if (i < 0) throw new OverrideValueError(`No value component in ${this.input}`);
    return this.input.slice(i + 1);
  }

  /** Hydra's `get_value_element_as_str`: the value written back as override text. */
  valueAsStr(spaceAfterSep = false): string {
    if (this.value === undefined) return valueAsStr(null, spaceAfterSep);
    if (isSweep(this.value)) throw new OverrideValueError(`Cannot convert sweep to str (override '${this.input}')`);
    return valueAsStr(this.value, spaceAfterSep);
  }

  /** The value as config data: quotes dropped, casts already applied. Sweeps have none. */
  convertedValue(): ConfigValue {
    if (this.value === undefined) return null;
    if (this.isSweep() || isSweep(this.value))
      throw new OverrideValueError(`Override '${this.input}' is a sweep, not a single value`);
    return toConfig(this.value, this.input);
  }

  /**
   * The values of a discrete sweep (choice, simple choice, range, glob) in sweep order (shuffled where
   * the sweep says so). A glob needs the options of the config group it selects from.
   */
  sweepValues(globOptions?: readonly string[]): SweepValue[] {
    const v = this.value;
    let elements: FunctionValue[];
    if (v instanceof ChoiceSweep) elements = v.shuffle ? shuffled(v.list) : v.list;
    else if (v instanceof RangeSweep) {
      let all: FunctionValue[];
      try {
        all = rangeValues(v);
      } catch (e) {
        if (e instanceof OverrideValueError) throw new OverrideValueError(`Override '${this.input}': ${e.message}`, { cause: e });
        throw e;
      }
      elements = v.shuffle ? shuffled(all) : all;
    } else if (v instanceof Glob) {
      if (globOptions === undefined) throw new OverrideValueError(`Override '${this.input}': glob() needs the options of group '${this.keyOrGroup}'`);
      elements = globFilter(v, globOptions);
    } else {
      throw new OverrideValueError(`Can only enumerate CHOICE and RANGE sweeps, type is ${this.valueType === null ? 'None' : 'ValueType.' + this.valueType}`);
    }
    return elements.map((e) => {
      if (isSweep(e)) throw new OverrideValueError(`Override '${this.input}': a sweep cannot be a value of a sweep`);
      return { element: e as ParsedElement | Glob, value: toConfig(e, this.input), text: valueAsStr(e, false) };
    });
  }
}

/** Hydra's `escape_special_characters`: `\()[]{}:=, ` and tab get a backslash. */
export function escapeSpecialCharacters(s: string): string {
  let out = '';
  for (const ch of s) out += '\\()[]{}:=, \t'.includes(ch) ? '\\' + ch : ch;
  return out;
}

/** Hydra's `Override._get_value_element_as_str`. */
export function valueAsStr(v: FunctionValue, spaceAfterSep = false): string {
  const comma = spaceAfterSep ? ', ' : ',';
  const colon = spaceAfterSep ? ': ' : ':';
  if (v === null) return 'null';
  if (v instanceof QuotedString) return v.withQuotes();
  if (Array.isArray(v)) return '[' + v.map((x) => valueAsStr(x, spaceAfterSep)).join(comma) + ']';
  if (v instanceof ParsedDict)
    return '{' + v.entries.map(([k, x]) => `${valueAsStr(k)}${colon}${valueAsStr(x, spaceAfterSep)}`).join(comma) + '}';
  if (typeof v === 'string') return escapeSpecialCharacters(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (isPyInt(v)) return String(v);
  if (v instanceof Float) return formatFloat(v.value);
  if (v instanceof Glob) {
    // A dataclass: Hydra goes through OmegaConf.structured(...) and writes it as a dict.
    return `{include${colon}${valueAsStr(v.include, spaceAfterSep)}${comma}exclude${colon}${valueAsStr(v.exclude, spaceAfterSep)}}`;
  }
  throw new OverrideValueError(`Cannot convert ${pyRepr(v)} to an override value`);
}

/** Config data for a parsed element (Hydra's `_convert_value`: quoted strings become plain strings). */
function toConfig(v: FunctionValue, input: string): ConfigValue {
  if (v instanceof QuotedString) return v.text;
  if (Array.isArray(v)) return v.map((x) => toConfig(x, input));
  if (v instanceof ParsedDict) {
    const out: ConfigDict = {};
    for (const [k, x] of v.entries) out[dictKeyString(k)] = toConfig(x, input);
    return out;
  }
  // A glob is a dataclass to Hydra: as a value (not the whole override) it becomes a dict.
  if (v instanceof Glob) return { include: v.include.map((x) => toConfig(x, input)), exclude: v.exclude.map((x) => toConfig(x, input)) };
  if (isSweep(v)) throw new OverrideValueError(`Override '${input}': a sweep cannot be nested in a value`);
  return v;
}

/** Our dicts have string keys; other key types are written as YAML would show them. */
function dictKeyString(k: DictKey): string {
  if (k === null) return 'null';
  if (typeof k === 'boolean') return k ? 'true' : 'false';
  if (k instanceof Float) return formatFloat(k.value);
  return String(k);
}

/** `RangeSweep.range()`: Python's range() over ints, else Hydra's FloatRange stepping in decimal.Decimal. */
export function rangeValues(r: RangeSweep): FunctionValue[] {
  const isInt = (x: FunctionValue) => isPyInt(x) || typeof x === 'boolean';
  const out: FunctionValue[] = [];
  const tooMany = () => new OverrideValueError(`range sweep has more than ${MAX_SWEEP_VALUES} values`);
  if (isInt(r.start) && isInt(r.stop) && isInt(r.step)) {
    const big = (x: FunctionValue) => BigInt(typeof x === 'boolean' ? Number(x) : (x as number | bigint));
    const start = big(r.start);
    const stop = big(r.stop);
    const step = big(r.step);
    if (step === 0n) throw new OverrideValueError('ValueError: range() arg 3 must not be zero');
    if ((stop - start) / step >= BigInt(MAX_SWEEP_VALUES)) throw tooMany();
    for (let x = start; step > 0n ? x < stop : x > stop; x += step) {
      if (out.length >= MAX_SWEEP_VALUES) throw tooMany();
      out.push(normInt(x));
    }
    return out;
  }
  const dec = (x: FunctionValue) => {
    if (x instanceof Float && !Number.isFinite(x.value)) throw new OverrideValueError(`range() values must be finite numbers, got ${pyRepr(x)}`);
    if (x instanceof Float) return decimalFrom(x.value);
    if (typeof x === 'boolean') return decimalFrom(x ? 1 : 0);
    if (isPyInt(x)) return decimalFrom(x);
    throw new OverrideValueError(`range() values must be numbers, got ${pyRepr(x)}`);
  };
  let cur = dec(r.start);
  const stop = dec(r.stop);
  const step = dec(r.step);
  const sign = step.coef > 0n ? 1 : step.coef < 0n ? -1 : 0;
  if (sign === 0)
    throw new OverrideValueError(`Invalid range values (start:${decimalStr(cur)}, stop:${decimalStr(stop)}, step:${decimalStr(step)})`);
  // Refuse up front what the loop below would take minutes to refuse.
  if ((decimalToFloat(stop) - decimalToFloat(cur)) / decimalToFloat(step) > MAX_SWEEP_VALUES + 1) throw tooMany();
  while (decimalCmp(cur, stop) === -sign) {
    if (out.length >= MAX_SWEEP_VALUES) throw tooMany();
    out.push(new Float(decimalToFloat(cur)));
    cur = decimalAdd(cur, step);
  }
  return out;
}

/** `Glob.filter`: names matching an include pattern and no exclude pattern (fnmatch, case-sensitive). */
export function globFilter(g: Glob, names: readonly string[]): string[] {
  const pat = (x: FunctionValue) => fnmatchRegExp(x instanceof QuotedString ? x.text : String(x));
  const inc = g.include.map(pat);
  const exc = g.exclude.map(pat);
  return names.filter((n) => inc.some((r) => r.test(n)) && !exc.some((r) => r.test(n)));
}

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`. */
export function fnmatchRegExp(pattern: string): RegExp {
  let re = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      let j = i + 1;
      if (chars[j] === '!') j++;
      if (chars[j] === ']') j++;
      while (j < chars.length && chars[j] !== ']') j++;
      if (j >= chars.length) re += '\\[';
      else {
        let body = chars.slice(i + 1, j).join('');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        re += '[' + body.replace(/\\/g, '\\\\').replace(/(?<!^)\^/g, '\\^') + ']';
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp('^(?:' + re + ')$', 'u');
}
