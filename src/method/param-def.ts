/**
 * A method's parameters, declared once as data (mergekit's `ConfigParameterDef`, with types, ranges and
 * a doc line): the same list gives the registry its parameter names (for `_args_` and the unknown-key
 * error), `fusion-bench --info targets` its per-method listing, and the constructor its checked values.
 */
import { UserError } from '../errors.js';
import type { RunContext } from '../run-context.js';
import { Params } from './params.js';

export type ParamType =
  | 'float' // a finite number
  | 'int' // an integer
  | 'bool'
  | 'choice' // one of `choices`
  | 'str' // a string or null
  | 'str[]' // a list of strings
  | 'float[]' // a list of numbers
  | 'float|float[]' // a number, or a list of numbers (one per model)
  | 'any'; // passed through as given (mappings such as dataloader_kwargs)

export interface ParamDef {
  readonly name: string;
  readonly type: ParamType;
  /** The value when the key is absent or null; absent (and no `defaultFrom`) makes the key required. */
  readonly default?: unknown;
  /** A default taken from the run (DARE's seed is the program's seed). */
  readonly defaultFrom?: (ctx: RunContext | undefined) => unknown;
  /** How the default reads in listings when it is computed. */
  readonly defaultText?: string;
  readonly min?: number;
  readonly max?: number;
  /** `min` itself is excluded (e.g. 0 < common_space_fraction). */
  readonly minExclusive?: boolean;
  readonly choices?: readonly string[];
  /** Maps a given string before checking it against `choices` (fusion_bench's "dis-mean" → "mean"). */
  readonly normalize?: (s: string) => string;
  /** One line for listings. */
  readonly doc: string;
}

/** Keys every fusion_bench method accepts (BaseYAMLSerializable's metadata), never listed. */
export const METADATA_KEYS: readonly string[] = ['_usage_', '_version_'];

/** The names a method takes, in positional order, metadata keys last (for the registry). */
export function paramNames(defs: readonly ParamDef[]): string[] {
  return [...defs.map((d) => d.name), ...METADATA_KEYS];
}

export function isRequired(d: ParamDef): boolean {
  return !('default' in d) && d.defaultFrom === undefined;
}

/** The default as listings show it. */
export function defaultText(d: ParamDef): string {
  if (d.defaultText !== undefined) return d.defaultText;
  if (isRequired(d)) return 'required';
  return JSON.stringify(d.default) ?? 'null';
}

/** The type and range as listings show them. */
export function typeText(d: ParamDef): string {
  if (d.type === 'choice') return (d.choices ?? []).join('|');
  const lo = d.min === undefined ? '' : `${d.min}${d.minExclusive ? ' <' : ' ≤'} `;
  const hi = d.max === undefined ? '' : ` ≤ ${d.max}`;
  return lo || hi ? `${d.type} (${lo}x${hi})` : d.type;
}

function readOne(p: Params, d: ParamDef, given: unknown, owner: string, ctx: RunContext | undefined): unknown {
  if (given === undefined || given === null) {
    if (d.defaultFrom !== undefined) return d.defaultFrom(ctx);
    if ('default' in d) return d.default;
  }
  const range = { min: d.minExclusive ? undefined : d.min, max: d.max };
  switch (d.type) {
    case 'float': {
      const v = p.number(d.name, range);
      if (d.minExclusive && d.min !== undefined && !(v > d.min)) {
        throw new UserError(`${owner}: option '${d.name}' must be a number with ${d.min} < ${d.name}${d.max === undefined ? '' : ` ≤ ${d.max}`}, got ${v}`);
      }
      return v;
    }
    case 'int': {
      const v = p.number(d.name, range);
      if (!Number.isSafeInteger(v)) throw new UserError(`${owner}: option '${d.name}' must be an integer, got ${v}`);
      return v;
    }
    case 'bool':
      return p.bool(d.name);
    case 'choice':
      return p.oneOf(d.name, d.choices ?? [], undefined, d.normalize);
    case 'str':
      return p.optionalString(d.name);
    case 'str[]':
      return p.stringList(d.name);
    case 'float[]':
      return p.numberList(d.name);
    case 'float|float[]':
      return Array.isArray(given) ? p.numberList(d.name) : p.number(d.name, range);
    case 'any':
      return given;
  }
}

/**
 * The method's values, checked: each declared key read with its type, range and default; a key the
 * method does not declare is an error listing the keys it takes (fusion_bench's strict configs).
 */
export function readParams(owner: string, defs: readonly ParamDef[], config: unknown, ctx?: RunContext): Record<string, unknown> {
  const p = new Params(config, owner);
  const cfg = (config ?? {}) as Record<string, unknown>;
  const known = new Set(paramNames(defs));
  const unknown = Object.keys(cfg).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new UserError(
      `${owner}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ${owner} takes ${defs.length ? defs.map((d) => `'${d.name}'`).join(', ') : 'no options'}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const d of defs) out[d.name] = readOne(p, d, cfg[d.name], owner, ctx);
  return out;
}
