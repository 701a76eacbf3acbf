/**
 * Config data as plain JavaScript values, with one twist: Python tells `1` from `1.0`, and Hydra's output
 * keeps the difference, so every float is boxed in `Float` and a plain `number` is always an int.
 * (`bigint` holds ints beyond 2^53, which PyYAML reads exactly.)
 *
 * Strings are stored raw, as OmegaConf stores them: `${a.b}` is an interpolation, `\${a}` an escaped one,
 * `???` a missing value. Resolution happens on access (see omegaconf/resolve).
 */
import { putOwn } from '../util/own.js';
export class Float {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return formatFloat(this.value);
  }
}

export type Scalar = string | number | bigint | boolean | null | Float;
export type ConfigValue = Scalar | ConfigList | ConfigDict;
export type ConfigList = ConfigValue[];
export interface ConfigDict {
  [key: string]: ConfigValue;
}

export function isDict(v: unknown): v is ConfigDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Float);
}

export function isFloat(v: unknown): v is Float {
  return v instanceof Float;
}

/** Python's repr of a float: `1.0`, `0.5`, `1e-05`, `inf`, `nan`. */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  const abs = Math.abs(x);
  // Python switches to exponent form below 1e-4 and at 1e16 and above; JS at 1e-7 and 1e21.
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** Deep copy of config data (Float boxes are immutable and shared). */
export function cloneValue<T extends ConfigValue>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => cloneValue(x)) as T;
  if (isDict(v)) {
    const out: ConfigDict = {};
    for (const k of Object.keys(v)) putOwn(out, k, cloneValue(v[k]));
    return out as T;
  }
  return v;
}

/** Converts config data to plain JS for library code: Float → number. */
export function toPlain(v: ConfigValue): unknown {
  if (v instanceof Float) return v.value;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toPlain);
  if (isDict(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) putOwn(out, k, toPlain(v[k]));
    return out;
  }
  return v;
}
