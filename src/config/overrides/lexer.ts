/**
 * A hand-written lexer equivalent to Hydra's OverrideLexer.g4: two modes (the key before `=`, the value
 * after it), longest match with ties going to the rule listed first, as ANTLR lexers behave.
 *
 * It works on code points, not UTF-16 units, so that error columns match Hydra's (Python counts code
 * points). Tokens are produced on demand, as ANTLR's token stream pulls them: an unlexable character is
 * reported when the parser first looks at it, which decides whether a lexer or a parser error wins.
 */
import { T, type Token } from './tokens.js';

/** No token rule matches at `start` (ANTLR's LexerNoViableAltException). */
export class LexerError extends Error {
  constructor(readonly start: number) {
    super(`token recognition error at ${start}`);
  }
}

const enum Mode {
  KEY,
  VALUE,
}

const C = {
  tab: 9,
  space: 32,
  dquote: 34,
  dollar: 36,
  squote: 39,
  lparen: 40,
  rparen: 41,
  plus: 43,
  comma: 44,
  minus: 45,
  dot: 46,
  slash: 47,
  colon: 58,
  equal: 61,
  at: 64,
  lbracket: 91,
  backslash: 92,
  rbracket: 93,
  underscore: 95,
  lbrace: 123,
  rbrace: 125,
  tilde: 126,
} as const;

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isWS(c: number): boolean {
  return c === C.space || c === C.tab;
}
/** Characters `\` may escape in an unquoted value: `\()[]{}:=, ` and tab (the ESC rule). */
function isEscapable(c: number): boolean {
  return (
    c === C.backslash ||
    c === C.lparen ||
    c === C.rparen ||
    c === C.lbracket ||
    c === C.rbracket ||
    c === C.lbrace ||
    c === C.rbrace ||
    c === C.colon ||
    c === C.equal ||
    c === C.comma ||
    c === C.space ||
    c === C.tab
  );
}
/** UNQUOTED_CHAR: [/\-\\+.$%*@?|] */
function isUnquotedChar(c: number): boolean {
  return c === 47 || c === 45 || c === 92 || c === 43 || c === 46 || c === 36 || c === 37 || c === 42 || c === 64 || c === 63 || c === 124;
}

export class Lexer {
  private readonly cps: number[];
  /** UTF-16 offset of each code point (and of the end), to slice token text from the input string. */
  private readonly offsets: Int32Array;
  private pos = 0;
  private mode = Mode.KEY;
  /** Index of the first `}` at or after each position, computed on first need (INTERPOLATION). */
  private nextBrace: Int32Array | null = null;

  constructor(private readonly input: string) {
    const cps: number[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < input.length; ) {
      const c = input.codePointAt(i)!;
      cps.push(c);
      offsets.push(i);
      i += c > 0xffff ? 2 : 1;
    }
    offsets.push(input.length);
    this.cps = cps;
    this.offsets = Int32Array.from(offsets);
  }

  get length(): number {
    return this.cps.length;
  }

  /** The input between two code point positions. */
  text(start: number, stop: number): string {
    return this.input.slice(this.offsets[start], this.offsets[stop]);
  }

  next(): Token {
    const n = this.cps.length;
    const p = this.pos;
    if (p >= n) return { type: T.EOF, text: '<EOF>', start: n, stop: n };
    const [type, end] = this.mode === Mode.KEY ? this.matchKey(p) : this.matchValue(p);
    if (end <= p) throw new LexerError(p);
    this.pos = end;
    if (type === T.EQUAL && this.mode === Mode.KEY) this.mode = Mode.VALUE;
    return { type, text: this.text(p, end), start: p, stop: end };
  }

  private at(i: number): number {
    return i < this.cps.length ? this.cps[i] : -1;
  }

  private skipWS(i: number): number {
    while (isWS(this.at(i))) i++;
    return i;
  }

  // ---- key mode: EQUAL TILDE PLUS AT COLON SLASH KEY_ID KEY_SPECIAL DOT_PATH

  private matchKey(p: number): [T, number] {
    const c = this.at(p);
    switch (c) {
      case C.equal:
        return [T.EQUAL, this.skipWS(p + 1)];
      case C.tilde:
        return [T.TILDE, p + 1];
      case C.plus:
        return [T.PLUS, p + 1];
      case C.at:
        return [T.AT, p + 1];
      case C.colon:
        return [T.COLON, p + 1];
      case C.slash:
        return [T.SLASH, p + 1];
    }
    const id = this.matchId(p);
    const special = this.matchKeySpecial(p);
    const dotPath = this.matchDotPath(p);
    let best: [T, number] = [T.ID, id];
    if (special > best[1]) best = [T.KEY_SPECIAL, special];
    if (dotPath > best[1]) best = [T.DOT_PATH, dotPath];
    return best;
  }

  /** ID: (CHAR|'_') (CHAR|DIGIT|'_'|'-')* */
  private matchId(p: number): number {
    const c = this.at(p);
    if (!isLetter(c) && c !== C.underscore) return p;
    let i = p + 1;
    for (;;) {
      const d = this.at(i);
      if (isLetter(d) || isDigit(d) || d === C.underscore || d === C.minus) i++;
      else return i;
    }
  }

  /** KEY_SPECIAL: (CHAR|'_'|'$') (CHAR|DIGIT|'_'|'-'|'$')* */
  private matchKeySpecial(p: number): number {
    const c = this.at(p);
    if (!isLetter(c) && c !== C.underscore && c !== C.dollar) return p;
    let i = p + 1;
    for (;;) {
      const d = this.at(i);
      if (isLetter(d) || isDigit(d) || d === C.underscore || d === C.minus || d === C.dollar) i++;
      else return i;
    }
  }

  /** INT_UNSIGNED: '0' | [1-9] (('_')? DIGIT)* */
  private matchIntUnsigned(p: number): number {
    const c = this.at(p);
    if (c === 48) return p + 1;
    if (c < 49 || c > 57) return p;
    return this.matchDigitTail(p + 1);
  }

  /** (('_')? DIGIT)* from i */
  private matchDigitTail(i: number): number {
    for (;;) {
      const d = this.at(i);
      if (isDigit(d)) i++;
      else if (d === C.underscore && isDigit(this.at(i + 1))) i += 2;
      else return i;
    }
  }

  /** DOT_PATH: (KEY_SPECIAL | INT_UNSIGNED) ('.' (KEY_SPECIAL | INT_UNSIGNED))+ */
  private matchDotPath(p: number): number {
    const segment = (i: number): number => {
      const k = this.matchKeySpecial(i);
      return k > i ? k : this.matchIntUnsigned(i);
    };
    let i = segment(p);
    if (i === p) return p;
    let end = p;
    while (this.at(i) === C.dot) {
      const j = segment(i + 1);
      if (j === i + 1) break;
      i = j;
      end = j;
    }
    return end;
  }

  // ---- value mode: POPEN COMMA PCLOSE BRACKET_OPEN BRACKET_CLOSE BRACE_OPEN BRACE_CLOSE VALUE_COLON
  //      VALUE_EQUAL FLOAT INT BOOL NULL UNQUOTED_CHAR ID ESC WS QUOTED_VALUE INTERPOLATION

  private matchValue(p: number): [T, number] {
    const c = this.at(p);
    const w = this.skipWS(p);
    const cw = this.at(w);
    // Punctuation, with the whitespace the grammar lets each absorb.
    switch (cw) {
      case C.lparen:
        return [T.POPEN, this.skipWS(w + 1)];
      case C.comma:
        return [T.COMMA, this.skipWS(w + 1)];
      case C.rparen:
        return [T.PCLOSE, w + 1];
      case C.rbracket:
        return [T.BRACKET_CLOSE, w + 1];
      case C.rbrace:
        return [T.BRACE_CLOSE, w + 1];
      case C.colon:
        return [T.COLON, this.skipWS(w + 1)];
      case C.equal:
        return [T.EQUAL, this.skipWS(w + 1)];
    }
    if (w > p) return [T.WS, w]; // a run of blanks not followed by punctuation
    if (c === C.lbracket) return [T.BRACKET_OPEN, this.skipWS(p + 1)];
    if (c === C.lbrace) return [T.BRACE_OPEN, this.skipWS(p + 1)];
    if (c === C.squote || c === C.dquote) return [T.QUOTED_VALUE, this.matchQuoted(p)];

    // Longest match; on a tie the rule listed first in the grammar wins (strict > below).
    let type = T.FLOAT;
    let end = this.matchFloat(p);
    let e = this.matchInt(p);
    if (e > end) (type = T.INT), (end = e);
    e = this.matchWord(p, 'true') || this.matchWord(p, 'false');
    if (e > end) (type = T.BOOL), (end = e);
    e = this.matchWord(p, 'null');
    if (e > end) (type = T.NULL), (end = e);
    if (isUnquotedChar(c) && p + 1 > end) (type = T.UNQUOTED_CHAR), (end = p + 1);
    e = this.matchId(p);
    if (e > end) (type = T.ID), (end = e);
    e = this.matchEsc(p);
    if (e > end) (type = T.ESC), (end = e);
    e = this.matchInterpolation(p);
    if (e > end) (type = T.INTERPOLATION), (end = e);
    return [type, end];
  }

  /** A case-insensitive keyword (BOOL, NULL); 0 when absent. */
  private matchWord(p: number, word: string): number {
    for (let k = 0; k < word.length; k++) {
      const c = this.at(p + k);
      if (c === -1 || (c | 0x20) !== word.charCodeAt(k)) return 0;
    }
    return p + word.length;
  }

  private matchSign(p: number): number {
    const c = this.at(p);
    return c === C.plus || c === C.minus ? p + 1 : p;
  }

  /** INT: [+-]? INT_UNSIGNED */
  private matchInt(p: number): number {
    const s = this.matchSign(p);
    const e = this.matchIntUnsigned(s);
    return e > s ? e : p;
  }

  /**
   * FLOAT: [+-]? (POINT_FLOAT | EXPONENT_FLOAT | [Ii][Nn][Ff] | [Nn][Aa][Nn]), where
   * POINT_FLOAT: INT_UNSIGNED '.' | INT_UNSIGNED? '.' DIGIT (('_')? DIGIT)*, and
   * EXPONENT_FLOAT: (INT_UNSIGNED | POINT_FLOAT) [eE] [+-]? DIGIT (('_')? DIGIT)*.
   */
  private matchFloat(p: number): number {
    const s = this.matchSign(p);
    let best = this.matchWord(s, 'inf') || this.matchWord(s, 'nan') || p;
    const intEnd = this.matchIntUnsigned(s);
    const hasInt = intEnd > s;
    if (hasInt && this.matchExponent(intEnd) > intEnd) best = Math.max(best, this.matchExponent(intEnd)); // `1e5`
    if (this.at(intEnd) === C.dot) {
      if (hasInt) best = Math.max(best, intEnd + 1, this.matchExponent(intEnd + 1)); // `1.`, `1.e5`
      if (isDigit(this.at(intEnd + 1))) {
        const frac = this.matchDigitTail(intEnd + 2); // `1.5`, `.5`
        best = Math.max(best, frac, this.matchExponent(frac));
      }
    }
    return best;
  }

  /** `[eE] [+-]? DIGIT (('_')? DIGIT)*` after a float's base ending at b; b itself when absent. */
  private matchExponent(b: number): number {
    const e = this.at(b);
    if (e !== 101 && e !== 69) return b;
    const sign = this.matchSign(b + 1);
    return isDigit(this.at(sign)) ? this.matchDigitTail(sign + 1) : b;
  }

  /** ESC: ('\\\\' | '\\(' | ... | '\\ ' | '\\\t')+ */
  private matchEsc(p: number): number {
    let i = p;
    while (this.at(i) === C.backslash && isEscapable(this.at(i + 1))) i += 2;
    return i;
  }

  /**
   * QUOTED_VALUE: a quote, then anything up to the first matching quote preceded by an even number of
   * backslashes (the grammar's non-greedy `(.)*? ~[\\] ('\\\\')*`). Unterminated: no match.
   */
  private matchQuoted(p: number): number {
    const q = this.cps[p];
    let backslashes = 0;
    for (let i = p + 1; i < this.cps.length; i++) {
      const c = this.cps[i];
      if (c === q && backslashes % 2 === 0) return i + 1;
      backslashes = c === C.backslash ? backslashes + 1 : 0;
    }
    return p;
  }

  /** INTERPOLATION: '${' ~('}')+ '}' */
  private matchInterpolation(p: number): number {
    if (this.at(p) !== C.dollar || this.at(p + 1) !== C.lbrace) return p;
    const close = this.findBrace(p + 2);
    return close > p + 2 ? close + 1 : p;
  }

  private findBrace(from: number): number {
    if (this.nextBrace === null) {
      // Computed once so that a long run of unterminated `${` stays linear.
      const n = this.cps.length;
      const nb = new Int32Array(n + 1);
      nb[n] = -1;
      for (let i = n - 1; i >= 0; i--) nb[i] = this.cps[i] === C.rbrace ? i : nb[i + 1];
      this.nextBrace = nb;
    }
    return from <= this.cps.length ? this.nextBrace[from] : -1;
  }
}
