/**
 * Reading a method's config keys (fusion_bench's names) with clear errors. Values arrive as plain
 * JavaScript from the registry; boxed config floats and bigints are accepted too.
 */
import { UserError } from '../errors.js';

function unbox(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype && typeof (v as { valueOf(): unknown }).valueOf() === 'number') {
    return (v as { valueOf(): number }).valueOf();
  }
  return v;
}

export class Params {
  private readonly cfg: Record<string, unknown>;

  constructor(cfg: unknown, private readonly owner: string) {
    if (cfg === undefined || cfg === null) cfg = {};
    if (typeof cfg !== 'object' || Array.isArray(cfg)) throw new UserError(`${owner}: expected a mapping of options, got ${JSON.stringify(cfg)}`);
    this.cfg = cfg as Record<string, unknown>;
  }

  private fail(key: string, expected: string, got: unknown): never {
    throw new UserError(`${this.owner}: option '${key}' must be ${expected}, got ${JSON.stringify(got) ?? String(got)}`);
  }

  private raw(key: string): unknown {
    return unbox(this.cfg[key]);
  }

  /** A number; `dflt` undefined makes it required. */
  number(key: string, opts: { dflt?: number; min?: number; max?: number } = {}): number {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (opts.dflt !== undefined) return opts.dflt;
      throw new UserError(`${this.owner}: option '${key}' is required (a number)`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'a finite number', v);
    const range = `${opts.min ?? '-inf'} ≤ ${key} ≤ ${opts.max ?? 'inf'}`;
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) this.fail(key, `a number with ${range}`, v);
    return v;
  }

  bool(key: string, dflt?: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      throw new UserError(`${this.owner}: option '${key}' is required (true or false)`);
    }
    if (typeof v !== 'boolean') this.fail(key, 'true or false', v);
    return v;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], dflt?: T, normalize: (s: string) => string = (s) => s): T {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      throw new UserError(`${this.owner}: option '${key}' is required (one of ${choices.join(', ')})`);
    }
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(normalize(v))) this.fail(key, `one of ${choices.join(', ')}`, v);
    return normalize(v) as T;
  }

  stringList(key: string, dflt: string[] = []): string[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return dflt;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.fail(key, 'a list of strings', v);
    return [...(v as string[])];
  }

  numberList(key: string): number[] {
    const v = this.raw(key);
    if (v === undefined || v === null) throw new UserError(`${this.owner}: option '${key}' is required (a list of numbers)`);
    if (!Array.isArray(v)) this.fail(key, 'a list of numbers', v);
    const out = (v as unknown[]).map(unbox);
    if (!out.every((x) => typeof x === 'number' && Number.isFinite(x))) this.fail(key, 'a list of finite numbers', v);
    return out as number[];
  }

  optionalString(key: string): string | null {
    const v = this.raw(key);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.fail(key, 'a string or null', v);
    return v;
  }

  /** An integer seed (default `dflt`). */
  seed(key: string, dflt: number): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(key, 'an integer', v);
    return v;
  }
}
