import { type ConfigValue, Float, formatFloat, isDict } from '../values.js';

/** Python's `str(value)` of config data, as OmegaConf and Hydra messages and string interpolation print it. */
export function pyStr(v: ConfigValue | undefined): string {
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

/** Python's `repr(value)`: strings quoted, containers printed as Python dicts/lists. */
export function pyRepr(v: ConfigValue | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Float) return formatFloat(v.value);
  if (typeof v === 'string') return pyStringRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isDict(v)) return `{${Object.keys(v).map((k) => `${pyStringRepr(k)}: ${pyRepr(v[k])}`).join(', ')}}`;
  return String(v);
}

/** Python's repr of a str: single quotes unless the text holds a single quote and no double quote. */
export function pyStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}
