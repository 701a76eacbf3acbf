/**
 * config.json as transformers writes it (`json.dumps(d, indent=2, sort_keys=True) + "\n"`), with floats
 * spelt the Python way (`1e-05`, `1.0`): JSON.parse cannot tell 1.0 from 1, so the caller names the
 * keys whose values are floats.
 */
import { formatFloat, isFloat } from '../config/values.js';

function sortKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pyString(s: string): string {
  // Python's json.dumps escapes every non-ASCII character (ensure_ascii=True).
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function emit(v: unknown, indent: string, asFloat: boolean, floatKeys: ReadonlySet<string>): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    return asFloat || !Number.isInteger(v) ? formatFloat(v) : String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return pyString(v);
  if (isFloat(v)) return formatFloat(v.value); // a boxed Float from the config layer
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[\n' + v.map((x) => inner + emit(x, inner, asFloat, floatKeys)).join(',\n') + '\n' + indent + ']';
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort(sortKeys);
  if (keys.length === 0) return '{}';
  return '{\n' + keys.map((k) => `${inner}${pyString(k)}: ${emit(obj[k], inner, floatKeys.has(k), floatKeys)}`).join(',\n') + '\n' + indent + '}';
}

export function pythonJson(value: unknown, floatKeys: ReadonlySet<string> = new Set()): string {
  return emit(value, '', false, floatKeys) + '\n';
}
