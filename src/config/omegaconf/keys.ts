import { type ConfigDict, type ConfigValue } from '../values.js';

/** A step in a config path: a dict key, or a list index. */
export type PathKey = string | number;

const KEY_PATH_HEAD = /^(\.)*[^.[]*/;
const KEY_PATH_OTHER = /\.([^.[]*)|\[(.*?)\]/g;

/**
 * OmegaConf's `split_key`: `a.b` → [a, b], `a[b]` → [a, b], `.a.b[c].d` → ['', a, b, c, d], `[a].b` → [a, b].
 * Leading empty items mark relative keys (one per dot).
 */
export function splitKey(key: string): string[] {
  const first = KEY_PATH_HEAD.exec(key)![0];
  const tokens = first.split('.');
  if (first.length === key.length) return tokens;
  if (key[first.length] === '[' && !tokens[tokens.length - 1]) tokens.pop();
  for (const m of key.slice(first.length).matchAll(KEY_PATH_OTHER)) tokens.push(m[1] !== undefined && m[1] !== '' ? m[1] : (m[2] ?? m[1] ?? ''));
  return tokens;
}

/** OmegaConf's full key of a node: dict keys joined with `.`, list indices as `[i]`. */
export function formatFullKey(path: readonly PathKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? k : `.${k}`;
  }
  return out;
}

/** Python's `int(s)` for list indices (OmegaConf's `is_int`, ASCII digits). */
export function parseIndex(s: string): number | null {
  const t = s.trim().replace(/_/g, '');
  return /^[+-]?\d+$/.test(t) ? Number(t) : null;
}

/** One step: the child of `c` at `key` (a list takes integer keys), or undefined. */
export function childOf(c: ConfigDict | ConfigValue[], key: string): { value: ConfigValue | undefined; key: PathKey } {
  if (Array.isArray(c)) {
    const i = parseIndex(key);
    if (i === null || i < 0 || i >= c.length) return { value: undefined, key: i ?? key };
    return { value: c[i], key: i };
  }
  return { value: Object.prototype.hasOwnProperty.call(c, key) ? c[key] : undefined, key };
}

