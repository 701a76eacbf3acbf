/**
 * The few Python semantics that Hydra's override functions lean on: `int()`/`float()` of strings, `repr`
 * in error messages, `<` between mixed values, CPython's sort order (so that the same comparison fails
 * first), and `decimal.Decimal` stepping for float ranges (so `range(0,1,0.1)` gives Python's floats).
 */
import { Float, formatFloat } from '../values.js';
import { ChoiceSweep, Glob, IntervalSweep, ParsedDict, QuotedString, RangeSweep } from './types.js';

/** An exception a Hydra function would raise, with Python's class name (`ValueError`, `TypeError`, ...). */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
  }
}

/** Python ints are unbounded: keep `number` while exact, `bigint` beyond 2^53. */
export function normInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function isPyInt(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (v instanceof Float) return 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v instanceof ParsedDict) return 'dict';
  if (v instanceof QuotedString) return 'QuotedString';
  if (v instanceof ChoiceSweep) return 'ChoiceSweep';
  if (v instanceof RangeSweep) return 'RangeSweep';
  if (v instanceof IntervalSweep) return 'IntervalSweep';
  if (v instanceof Glob) return 'Glob';
  return typeof v;
}

/** Python's `repr(str)`. */
export function reprStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + q;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + q;
}

/** Python's `repr` of the values Hydra's functions see (used in a few error messages). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Float) return formatFloat(v.value);
  if (typeof v === 'string') return reprStr(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (v instanceof ParsedDict) return '{' + v.entries.map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ') + '}';
  if (v instanceof QuotedString) return `QuotedString(text=${reprStr(v.text)}, quote=<Quote.${v.quote}: ${v.quote === 'single' ? 0 : 1}>)`;
  const tags = (t: Set<string>) => (t.size === 0 ? 'set()' : '{' + [...t].map(reprStr).join(', ') + '}');
  if (v instanceof ChoiceSweep)
    return `ChoiceSweep(tags=${tags(v.tags)}, list=${pyRepr(v.list)}, simple_form=${pyRepr(v.simpleForm)}, shuffle=${pyRepr(v.shuffle)})`;
  if (v instanceof RangeSweep)
    return `RangeSweep(tags=${tags(v.tags)}, start=${pyRepr(v.start)}, stop=${pyRepr(v.stop)}, step=${pyRepr(v.step)}, shuffle=${pyRepr(v.shuffle)})`;
  if (v instanceof IntervalSweep) return `IntervalSweep(tags=${tags(v.tags)}, start=${pyRepr(v.start)}, end=${pyRepr(v.end)})`;
  if (v instanceof Glob) return `Glob(include=${pyRepr(v.include)}, exclude=${pyRepr(v.exclude)})`;
  return String(v);
}

/** Python's `repr` of a tuple of arguments. */
export function reprTuple(args: unknown[]): string {
  return args.length === 1 ? `(${pyRepr(args[0])},)` : '(' + args.map(pyRepr).join(', ') + ')';
}

const PY_WS = /^[\s\u001c-\u001f]+|[\s\u001c-\u001f]+$/g;
const INT_LITERAL = /^[+-]?[0-9](?:_?[0-9])*$/;
const FLOAT_LITERAL = /^[+-]?(?:(?:[0-9](?:_?[0-9])*)(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;
const FLOAT_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/** Python's `int(s)` for a str. */
export function pyIntFromString(s: string): number | bigint {
  const t = s.replace(PY_WS, '');
  if (!INT_LITERAL.test(t)) throw new PyError('ValueError', `invalid literal for int() with base 10: ${reprStr(s)}`);
  const digits = t.replace(/_/g, '');
  const unsigned = digits.replace(/^[+-]/, '');
  if (unsigned.length > 4300)
    throw new PyError(
      'ValueError',
      `Exceeds the limit (4300 digits) for integer string conversion: value has ${unsigned.length} digits; use sys.set_int_max_str_digits() to increase the limit`,
    );
  return normInt(BigInt(digits));
}

/** Python's `float(s)` for a str. */
export function pyFloatFromString(s: string): number {
  const t = s.replace(PY_WS, '');
  if (FLOAT_SPECIAL.test(t)) {
    const neg = t.startsWith('-');
    if (/nan$/i.test(t)) return NaN;
    return neg ? -Infinity : Infinity;
  }
  if (!FLOAT_LITERAL.test(t)) throw new PyError('ValueError', `could not convert string to float: ${reprStr(s)}`);
  return Number(t.replace(/_/g, ''));
}

/** A grammar INT token (`-1_000`) as a Python int. */
export function intToken(text: string): number | bigint {
  return normInt(BigInt(text.replace(/_/g, '')));
}

/** A grammar FLOAT token (`1e3`, `.5`, `-inf`, `NaN`) as a Python float. */
export function floatToken(text: string): number {
  const t = text.replace(/_/g, '').toLowerCase();
  const body = t.replace(/^[+-]/, '');
  if (body === 'inf') return t.startsWith('-') ? -Infinity : Infinity;
  if (body === 'nan') return NaN;
  return Number(t);
}

/** Python's `int(x)` of a float. */
export function pyIntFromFloat(x: number): number | bigint {
  if (Number.isNaN(x)) throw new PyError('ValueError', 'cannot convert float NaN to integer');
  if (!Number.isFinite(x)) throw new PyError('OverflowError', 'cannot convert float infinity to integer');
  const t = Math.trunc(x);
  return Number.isSafeInteger(t) ? t + 0 : normInt(BigInt(t));
}

/** Python's `float(n)` of an int. */
export function pyFloatFromInt(n: number | bigint): number {
  const x = Number(n);
  if (!Number.isFinite(x)) throw new PyError('OverflowError', 'int too large to convert to float');
  return x;
}

/** A numeric view of a Python number (bool, int or float), or null. */
function numeric(v: unknown): number | bigint | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof Float) return v.value;
  return null;
}

function numLt(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b;
  if (typeof a === 'number' && typeof b === 'number') return a < b;
  // Mixed bigint/number: compare exactly where the float is finite and integral enough.
  const an = Number(a);
  const bn = Number(b);
  if (an !== bn) return an < bn;
  if (typeof a === 'bigint' && Number.isInteger(bn)) return a < BigInt(bn);
  if (typeof b === 'bigint' && Number.isInteger(an)) return BigInt(an) < b;
  return false;
}

/** Python's `==` for parsed values. */
export function pyEq(a: unknown, b: unknown): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null || nb !== null) {
    if (na === null || nb === null) return false;
    return !numLt(na, nb) && !numLt(nb, na) && !(typeof na === 'number' && Number.isNaN(na)) && !(typeof nb === 'number' && Number.isNaN(nb));
  }
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  if (a instanceof QuotedString && b instanceof QuotedString) return a.text === b.text && a.quote === b.quote;
  if (a instanceof ParsedDict && b instanceof ParsedDict) {
    if (a.entries.length !== b.entries.length) return false;
    return a.entries.every(([k, v]) => b.entries.some(([k2, v2]) => pyEq(k, k2) && pyEq(v, v2)));
  }
  return a === b;
}

/** Python's `a < b`, raising Python's TypeError for unorderable types. */
export function pyLt(a: unknown, b: unknown): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return numLt(na, nb);
  if (typeof a === 'string' && typeof b === 'string') return !codePointGe(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (!pyEq(a[i], b[i])) return pyLt(a[i], b[i]);
    return a.length < b.length;
  }
  throw new PyError('TypeError', `'<' not supported between instances of '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
}

/** JS compares strings by UTF-16 unit, Python by code point: they differ only around surrogates. */
function codePointGe(a: string, b: string): boolean {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done) return !!y.done;
    if (y.done) return true;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx > cy;
  }
}

/** CPython's `sorted(values, reverse=...)`: reverse, count the first run, binary insertion, reverse. */
export function pySorted<T>(values: readonly T[], reverse = false): T[] {
  const a = values.slice();
  if (reverse) a.reverse();
  const n = a.length;
  if (n > 1) {
    let run = 2;
    if (pyLt(a[1], a[0])) {
      while (run < n && pyLt(a[run], a[run - 1])) run++;
      const head = a.slice(0, run).reverse();
      for (let k = 0; k < run; k++) a[k] = head[k];
    } else {
      while (run < n && !pyLt(a[run], a[run - 1])) run++;
    }
    for (let start = run; start < n; start++) {
      const pivot = a[start];
      let l = 0;
      let r = start;
      while (l < r) {
        const p = l + ((r - l) >> 1);
        if (pyLt(pivot, a[p])) r = p;
        else l = p + 1;
      }
      for (let k = start; k > l; k--) a[k] = a[k - 1];
      a[l] = pivot;
    }
  }
  if (reverse) a.reverse();
  return a;
}

/** Python truthiness of a parsed value. */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof Float) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof ParsedDict) return v.entries.length > 0;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// decimal.Decimal, just enough for Hydra's FloatRange: exact construction from a float or int, addition
// rounded to 28 significant digits (half-even), exact comparison, and conversion back to float.

export interface Decimal {
  coef: bigint;
  exp: number;
}

export function decimalFrom(v: number | bigint): Decimal {
  if (typeof v === 'bigint') return { coef: v, exp: 0 };
  if (Number.isInteger(v) && Number.isSafeInteger(v)) return { coef: BigInt(v), exp: 0 };
  if (!Number.isFinite(v)) throw new PyError('ValueError', 'cannot convert non-finite float to Decimal');
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, v);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const e = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp2: number;
  if (e === 0) exp2 = -1074;
  else {
    mant |= 1n << 52n;
    exp2 = e - 1075;
  }
  if (mant === 0n) return { coef: 0n, exp: 0 };
  while ((mant & 1n) === 0n) {
    mant >>= 1n;
    exp2++;
  }
  if (exp2 >= 0) return { coef: sign * (mant << BigInt(exp2)), exp: 0 };
  return { coef: sign * mant * 5n ** BigInt(-exp2), exp: exp2 };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const exp = Math.min(a.exp, b.exp);
  return [a.coef * 10n ** BigInt(a.exp - exp), b.coef * 10n ** BigInt(b.exp - exp), exp];
}

export function decimalCmp(a: Decimal, b: Decimal): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function decimalAdd(a: Decimal, b: Decimal, precision = 28): Decimal {
  const [x, y, exp] = align(a, b);
  let coef = x + y;
  let e = exp;
  const neg = coef < 0n;
  let mag = neg ? -coef : coef;
  const digits = mag.toString().length;
  if (digits > precision) {
    const drop = digits - precision;
    const div = 10n ** BigInt(drop);
    let q = mag / div;
    const r = mag % div;
    const half = div / 2n;
    if (r > half || (r === half && div % 2n === 0n && q % 2n === 1n)) q += 1n;
    mag = q;
    e += drop;
  }
  coef = neg ? -mag : mag;
  return { coef, exp: e };
}

export function decimalToFloat(d: Decimal): number {
  return Number(`${d.coef}e${d.exp}`);
}

/** `str(Decimal)`. */
export function decimalStr(d: Decimal): string {
  const neg = d.coef < 0n;
  const digits = (neg ? -d.coef : d.coef).toString();
  const adjusted = d.exp + digits.length - 1;
  let body: string;
  if (d.exp <= 0 && adjusted >= -6) {
    if (d.exp === 0) body = digits;
    else {
      const point = digits.length + d.exp;
      body = point > 0 ? digits.slice(0, point) + '.' + digits.slice(point) : '0.' + '0'.repeat(-point) + digits;
    }
  } else {
    const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    body = `${mant}E${adjusted >= 0 ? '+' : ''}${adjusted}`;
  }
  return (neg ? '-' : '') + body;
}
