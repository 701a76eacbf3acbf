import { UserError } from '../../errors.js';

export const GRAMMAR_URL = 'https://hydra.cc/docs/1.2/advanced/override_grammar/basic';

/**
 * An override that does not parse. `hydraMessage` is exactly what Hydra's OverrideParseException says;
 * `message` adds the override with a caret under `column` (in code points) unless Hydra's text already
 * shows one (lexer errors).
 */
export class OverrideParseError extends UserError {
  override name = 'OverrideParseError';
  constructor(
    readonly override: string,
    readonly column: number,
    readonly hydraMessage: string,
    hasCaret = false,
  ) {
    super(hasCaret ? hydraMessage : `${hydraMessage}\n${caretLine(override, column)}`);
  }
}

/** An override that parsed but cannot be used that way (a sweep where a value is needed, a bad range). */
export class OverrideValueError extends UserError {
  override name = 'OverrideValueError';
}

export function caretLine(input: string, column: number): string {
  // Tabs stay tabs under the input so the caret lines up in a terminal.
  let pad = '';
  let i = 0;
  for (const ch of input) {
    if (i++ >= column) break;
    pad += ch === '\t' ? '\t' : ' ';
  }
  return `${input}\n${pad}^`;
}
