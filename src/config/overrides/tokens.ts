/** Token types of Hydra's OverrideLexer.g4, numbered as ANTLR numbers them (error messages list them in this order). */
export const enum T {
  EOF = -1,
  EQUAL = 1,
  TILDE = 2,
  PLUS = 3,
  AT = 4,
  COLON = 5,
  SLASH = 6,
  KEY_SPECIAL = 7,
  DOT_PATH = 8,
  POPEN = 9,
  COMMA = 10,
  PCLOSE = 11,
  BRACKET_OPEN = 12,
  BRACKET_CLOSE = 13,
  BRACE_OPEN = 14,
  BRACE_CLOSE = 15,
  FLOAT = 16,
  INT = 17,
  BOOL = 18,
  NULL = 19,
  UNQUOTED_CHAR = 20,
  ID = 21,
  ESC = 22,
  WS = 23,
  QUOTED_VALUE = 24,
  INTERPOLATION = 25,
}

export interface Token {
  type: T;
  /** The matched text (`<EOF>` for the end). */
  text: string;
  /** Start and end (exclusive) in code points, as Python (and so Hydra's caret) counts them. */
  start: number;
  stop: number;
}

/** How ANTLR names a token type in "expecting ..." (a literal where the rule is one fixed string). */
export function tokenTypeName(t: T): string {
  switch (t) {
    case T.EOF:
      return '<EOF>';
    case T.TILDE:
      return "'~'";
    case T.PLUS:
      return "'+'";
    case T.AT:
      return "'@'";
    case T.COLON:
      return "':'";
    case T.SLASH:
      return "'/'";
    default:
      return NAMES[t] ?? `<${t}>`;
  }
}

const NAMES: Record<number, string> = {
  1: 'EQUAL',
  7: 'KEY_SPECIAL',
  8: 'DOT_PATH',
  9: 'POPEN',
  10: 'COMMA',
  11: 'PCLOSE',
  12: 'BRACKET_OPEN',
  13: 'BRACKET_CLOSE',
  14: 'BRACE_OPEN',
  15: 'BRACE_CLOSE',
  16: 'FLOAT',
  17: 'INT',
  18: 'BOOL',
  19: 'NULL',
  20: 'UNQUOTED_CHAR',
  21: 'ID',
  22: 'ESC',
  23: 'WS',
  24: 'QUOTED_VALUE',
  25: 'INTERPOLATION',
};

/** ANTLR's IntervalSet.toString: one name alone, several in braces, by token type. */
export function tokenSetName(set: readonly T[]): string {
  const sorted = [...set].sort((a, b) => a - b);
  return sorted.length === 1 ? tokenTypeName(sorted[0]) : '{' + sorted.map(tokenTypeName).join(', ') + '}';
}

/** ANTLR's getTokenErrorDisplay: the text with \n \r \t escaped, in single quotes. */
export function tokenDisplay(tok: Token): string {
  return "'" + escapeWS(tok.text) + "'";
}

export function escapeWS(s: string): string {
  return s.replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}
