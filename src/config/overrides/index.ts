/**
 * Hydra 1.3's command-line override grammar: `parseOverride('+db@pkg=mysql')` → `Override`.
 * See lexer.ts (tokens), parser.ts (syntax, with Hydra's error messages), visitor.ts and functions.ts
 * (values, casts, sweeps) and override.ts (what callers use).
 */
import { OverrideParseError, GRAMMAR_URL } from './errors.js';
import { Lexer, LexerError } from './lexer.js';
import { Override, type ValueType } from './override.js';
import { Parser, SyntaxFailure } from './parser.js';
import { ChoiceSweep, Glob, IntervalSweep, RangeSweep, type OverrideValue } from './types.js';
import { ValueFailure, Visitor } from './visitor.js';

export { Override, valueAsStr, escapeSpecialCharacters, MAX_SWEEP_VALUES } from './override.js';
export type { OverrideType, ValueType, SweepValue } from './override.js';
export { OverrideParseError, OverrideValueError } from './errors.js';
export * from './types.js';

/** Parses one override as Hydra's OverridesParser does; throws OverrideParseError with Hydra's message. */
export function parseOverride(input: string): Override {
  const lexer = new Lexer(input);
  const see = `\nSee ${GRAMMAR_URL} for details`;
  try {
    const syntax = new Parser(lexer).parseOverride();
    const visitor = new Visitor((a, b) => lexer.text(a, b));
    let value: OverrideValue | undefined;
    let valueType: ValueType | null = null;
    if (syntax.value === undefined) value = undefined;
    else {
      value = syntax.value === null ? '' : (visitor.value(syntax.value) as OverrideValue);
      valueType = valueTypeOf(value);
    }
    return new Override(input, syntax.type, syntax.keyOrGroup, syntax.package, valueType, value);
  } catch (e) {
    if (e instanceof LexerError) {
      const prefix = 'LexerNoViableAltException: ';
      const msg = `${prefix}${input}\n${' '.repeat(prefix.length + e.start)}^${see}`;
      throw new OverrideParseError(input, e.start, msg, true);
    }
    if (e instanceof SyntaxFailure) {
      const msg = e.prefixed ? `Error parsing override '${input}'\n${e.message}` : e.message;
      throw new OverrideParseError(input, e.column, msg + see);
    }
    if (e instanceof ValueFailure) {
      throw new OverrideParseError(input, e.column, `Error parsing override '${input}'\n${e.message}${see}`);
    }
    throw e;
  }
}

/** Parses overrides in order; the first bad one throws. */
export function parseOverrides(inputs: readonly string[]): Override[] {
  return inputs.map(parseOverride);
}

function valueTypeOf(v: OverrideValue): ValueType {
  if (v instanceof ChoiceSweep) return v.simpleForm ? 'SIMPLE_CHOICE_SWEEP' : 'CHOICE_SWEEP';
  if (v instanceof Glob) return 'GLOB_CHOICE_SWEEP';
  if (v instanceof IntervalSweep) return 'INTERVAL_SWEEP';
  if (v instanceof RangeSweep) return 'RANGE_SWEEP';
  return 'ELEMENT';
}
