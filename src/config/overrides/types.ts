/**
 * The typed results of parsing an override value, mirroring Hydra's `override_parser/types.py`.
 *
 * A parsed element keeps more than config data does: quoted strings stay `QuotedString` (Hydra writes them
 * back with their quotes in `hydra.overrides` and `override_dirname`), and dict keys keep their parsed type
 * (`{1: a}` has an int key) until `Override.convertedValue()` turns the value into config data.
 */
import { Float } from '../values.js';

export type Quote = 'single' | 'double';

export class QuotedString {
  constructor(
    readonly text: string,
    readonly quote: Quote,
  ) {}

  /** The string written back with its quotes, escaping as Hydra's `QuotedString.with_quotes` does. */
  withQuotes(): string {
    const qc = this.quote === 'single' ? "'" : '"';
    const escQc = '\\' + qc;
    if (!this.text.includes('\\') || !hasBackslashesBeforeQuote(this.text + qc, qc)) {
      return qc + this.text.split(qc).join(escQc) + qc;
    }
    // Backslashes right before a quote (including the closing one) are doubled, so that reading the
    // string back (which halves them) gives the same text.
    const text = this.text + qc;
    let out = '';
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch !== '\\') {
        out += ch;
        i++;
        continue;
      }
      let j = i;
      while (j < text.length && text[j] === '\\') j++;
      if (j < text.length && text[j] === qc) {
        out += '\\'.repeat((j - i) * 2);
        i = j; // the quote itself is copied (and escaped below) unless it is the closing one
      } else {
        out += text.slice(i, j);
        i = j;
      }
    }
    out = out.slice(0, -1); // drop the closing quote added above
    return qc + out.split(qc).join(escQc) + qc;
  }
}

function hasBackslashesBeforeQuote(s: string, qc: string): boolean {
  for (let i = 1; i < s.length; i++) if (s[i] === qc && s[i - 1] === '\\') return true;
  return false;
}

/** A dict key as Hydra parses it: `{1: a}`, `{true: a}`, `{null: a}` keep their types. */
export type DictKey = string | number | bigint | boolean | null | Float;

/** `{a: 1}`: an ordered list of entries (keys may repeat only transiently; the visitor merges them like a Python dict). */
export class ParsedDict {
  constructor(readonly entries: Array<[DictKey, ParsedElement]>) {}
}

export type ParsedElement =
  | string
  | number
  | bigint
  | boolean
  | null
  | Float
  | QuotedString
  | ParsedElement[]
  | ParsedDict;

export type IntOrFloat = number | bigint | boolean | Float;

export class ChoiceSweep {
  tags = new Set<string>();
  constructor(
    public list: FunctionValue[],
    public simpleForm = false,
    public shuffle = false,
  ) {}
}

export class RangeSweep {
  tags = new Set<string>();
  constructor(
    public start: FunctionValue,
    public stop: FunctionValue,
    public step: FunctionValue = 1,
    public shuffle = false,
  ) {}
}

export class IntervalSweep {
  tags = new Set<string>();
  constructor(
    public start: FunctionValue,
    public end: FunctionValue,
  ) {}
}

/** `glob(include, exclude)`: selects options of a config group (not a Sweep subclass in Hydra either). */
export class Glob {
  constructor(
    readonly include: FunctionValue[],
    readonly exclude: FunctionValue[],
  ) {}
}

export type Sweep = ChoiceSweep | RangeSweep | IntervalSweep;

export function isSweep(v: unknown): v is Sweep {
  return v instanceof ChoiceSweep || v instanceof RangeSweep || v instanceof IntervalSweep;
}

/** Anything a grammar function may take or return (nesting a sweep inside a list is legal, if useless). */
export type FunctionValue = ParsedElement | Sweep | Glob | FunctionValue[];

/** The value of an override: an element, or a sweep, or a glob. */
export type OverrideValue = ParsedElement | Sweep | Glob;
