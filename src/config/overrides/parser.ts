/**
 * A recursive-descent parser for Hydra's OverrideParser.g4 that fails where, and with the words that,
 * Hydra's ANTLR-generated parser does. Each rule below follows the generated code's shape: `sync` before
 * blocks and loops (ANTLR's DefaultErrorStrategy: single-token deletion → "extraneous input", else
 * "mismatched input"), `match` with single-token deletion/insertion ("missing X at Y"), and the few
 * decisions that ANTLR predicts with more than one token of lookahead:
 *
 *   - value: element | simpleChoiceSweep — prediction reads the whole first element, so any error inside
 *     it is reported as "no viable alternative at input '<from the value's start to the bad token>'";
 *   - packageOrGroup, element, and argName? in function calls: two tokens.
 *
 * The parse builds a small syntax tree; values (and function calls, whose errors only surface once the
 * whole override parsed, as in Hydra's visitor) are computed afterwards by visitor.ts.
 */
import { Lexer } from './lexer.js';
import { T, escapeWS, tokenDisplay, tokenSetName, type Token } from './tokens.js';

/** Nesting depth (lists, dicts, calls) beyond which we stop instead of recursing further. */
export const MAX_DEPTH = 200;

export type Node = PrimitiveNode | ListNode | DictNode | CallNode | SweepNode;
export interface PrimitiveNode {
  kind: 'primitive';
  tokens: Token[];
}
export interface ListNode {
  kind: 'list';
  items: Node[];
}
export interface DictNode {
  kind: 'dict';
  pairs: Array<{ key: PrimitiveNode; value: Node }>;
}
export interface CallNode {
  kind: 'call';
  name: string;
  args: Array<{ name: string | null; value: Node }>;
  /** Code point span of the whole call (Hydra quotes `ctx.getText()` in errors). */
  start: number;
  stop: number;
}
export interface SweepNode {
  kind: 'sweep';
  items: Node[];
}

export interface ParsedSyntax {
  type: 'CHANGE' | 'ADD' | 'FORCE_ADD' | 'DEL';
  keyOrGroup: string;
  package: string | null;
  /** Absent for `~key`; `null` for an empty value (`key=`). */
  value: Node | null | undefined;
}

/**
 * A syntax error. `prefixed`: Hydra shows "Error parsing override '...'" before the message (errors
 * ANTLR reports without an exception object: extraneous and missing tokens).
 */
export class SyntaxFailure extends Error {
  constructor(
    message: string,
    readonly column: number,
    readonly prefixed: boolean,
  ) {
    super(message);
  }
}

const set = (...ts: T[]): ReadonlySet<T> => new Set(ts);
const PRIM_LOOP = set(T.COLON, T.FLOAT, T.INT, T.BOOL, T.NULL, T.UNQUOTED_CHAR, T.ID, T.ESC, T.WS, T.INTERPOLATION);
const FIRST_ELEMENT = set(...PRIM_LOOP, T.QUOTED_VALUE, T.BRACKET_OPEN, T.BRACE_OPEN);
const DICT_KEY = set(T.FLOAT, T.INT, T.BOOL, T.NULL, T.UNQUOTED_CHAR, T.ID, T.ESC, T.WS);
const OPT_VALUE = set(...FIRST_ELEMENT, T.EOF); // `value?` before EOF
const OVERRIDE_START = set(T.EQUAL, T.TILDE, T.PLUS, T.AT, T.KEY_SPECIAL, T.DOT_PATH, T.ID);
const AFTER_PLUS = set(T.EQUAL, T.PLUS, T.AT, T.KEY_SPECIAL, T.DOT_PATH, T.ID);
const AFTER_DEL_KEY = set(T.EOF, T.EQUAL);
const CALL_ARGS = set(...FIRST_ELEMENT, T.PCLOSE);
const LIST_ITEMS = set(...FIRST_ELEMENT, T.BRACKET_CLOSE);
const DICT_ITEMS = set(...DICT_KEY, T.BRACE_CLOSE);
const LIST_LOOP = set(T.COMMA, T.BRACKET_CLOSE);
const CALL_LOOP = set(T.COMMA, T.PCLOSE);
const DICT_LOOP = set(T.COMMA, T.BRACE_CLOSE);

/** Thrown by the prediction scan at the first token no alternative can take. */
class Dead {
  constructor(readonly index: number) {}
}

class DepthExceeded extends Error {}

export class Parser {
  private readonly tokens: Token[] = [];
  private p = 0;
  private depth = 0;

  constructor(private readonly lexer: Lexer) {}

  /** The token at absolute index i, lexed on demand (a lexer error surfaces when first looked at). */
  private at(i: number): Token {
    while (this.tokens.length <= i) {
      const last = this.tokens[this.tokens.length - 1];
      if (last !== undefined && last.type === T.EOF) return last;
      this.tokens.push(this.lexer.next());
    }
    return this.tokens[i];
  }
  private LT(k: number): Token {
    return this.at(this.p + k - 1);
  }
  private LA(k: number): T {
    return this.LT(k).type;
  }
  private consume(): Token {
    const t = this.LT(1);
    this.p++;
    this.LT(1); // ANTLR's consume() fetches the next token
    return t;
  }

  // ---- errors, as DefaultErrorStrategy words them

  private extraneous(expecting: Iterable<T>): never {
    const t = this.LT(1);
    throw new SyntaxFailure(`extraneous input ${tokenDisplay(t)} expecting ${tokenSetName([...expecting])}`, t.start, true);
  }
  private mismatched(expecting: Iterable<T>): never {
    const t = this.LT(1);
    throw new SyntaxFailure(`mismatched input ${tokenDisplay(t)} expecting ${tokenSetName([...expecting])}`, t.start, false);
  }
  private noViableAlt(startIndex: number, offendingIndex: number): never {
    // ANTLR's message quotes tokens via BufferedTokenStream.getText, which first lexes the whole input:
    // a lexer error anywhere after this point is what gets reported.
    for (let i = this.tokens.length; this.at(i).type !== T.EOF; i++);
    const start = this.at(startIndex);
    let text = '';
    if (start.type === T.EOF) text = '<EOF>';
    else for (let i = startIndex; i <= offendingIndex && this.at(i).type !== T.EOF; i++) text += this.at(i).text;
    throw new SyntaxFailure(`no viable alternative at input '${escapeWS(text)}'`, this.at(offendingIndex).start, false);
  }

  /** sync() at a block start or loop entry: the next token must be in `expected`. */
  private syncBlock(expected: ReadonlySet<T>): void {
    if (expected.has(this.LA(1))) return;
    if (expected.has(this.LA(2))) this.extraneous(expected);
    this.mismatched(expected);
  }
  /** sync() at the end of a `*` loop iteration. */
  private syncLoopBack(expected: ReadonlySet<T>): void {
    if (!expected.has(this.LA(1))) this.extraneous(expected);
  }
  /** match(type), with recoverInline's single-token deletion and insertion checks. */
  private match(type: T, follow: ReadonlySet<T> | null): Token {
    if (this.LA(1) === type) return this.consume();
    if (this.LA(2) === type) this.extraneous([type]);
    if (follow !== null && follow.has(this.LA(1))) {
      const t = this.LT(1);
      throw new SyntaxFailure(`missing ${tokenSetName([type])} at ${tokenDisplay(t)}`, t.start, true);
    }
    this.mismatched([type]);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new DepthExceeded();
  }

  // ---- rules

  parseOverride(): ParsedSyntax {
    try {
      return this.override();
    } catch (e) {
      if (e instanceof DepthExceeded) {
        const t = this.LT(1);
        throw new SyntaxFailure(`nesting deeper than ${MAX_DEPTH} levels is not supported`, t.start, true);
      }
      throw e;
    }
  }

  private override(): ParsedSyntax {
    this.syncBlock(OVERRIDE_START);
    let type: ParsedSyntax['type'] = 'CHANGE';
    let key: { keyOrGroup: string; package: string | null };
    let value: Node | null | undefined;
    const la = this.LA(1);
    if (la === T.TILDE) {
      this.consume();
      type = 'DEL';
      key = this.key(true);
      this.syncBlock(AFTER_DEL_KEY);
      if (this.LA(1) === T.EQUAL) {
        this.consume();
        value = this.optionalValue();
      }
    } else {
      if (la === T.PLUS) {
        this.consume();
        type = 'ADD';
        this.syncBlock(AFTER_PLUS);
        if (this.LA(1) === T.PLUS) {
          this.consume();
          type = 'FORCE_ADD';
        }
      }
      key = this.key(false);
      this.match(T.EQUAL, OPT_VALUE);
      value = this.optionalValue();
    }
    this.match(T.EOF, null);
    return { type, keyOrGroup: key.keyOrGroup, package: key.package, value };
  }

  private optionalValue(): Node | null {
    this.syncBlock(OPT_VALUE);
    return FIRST_ELEMENT.has(this.LA(1)) ? this.value() : null;
  }

  private key(isDelete: boolean): { keyOrGroup: string; package: string | null } {
    const keyOrGroup = this.packageOrGroup(isDelete);
    let pkg: string | null = null;
    if (this.LA(1) === T.AT) {
      this.consume();
      pkg = this.package();
    }
    return { keyOrGroup, package: pkg };
  }

  private packageOrGroup(isDelete: boolean): string {
    if (!(this.LA(1) === T.ID && this.LA(2) === T.SLASH)) return this.package();
    let text = this.consume().text;
    // After `a/b`: another `/`, `@pkg`, `=`, or (for `~a/b`) the end.
    const follow = isDelete ? set(T.SLASH, T.AT, T.EQUAL, T.EOF) : set(T.SLASH, T.AT, T.EQUAL);
    do {
      text += this.consume().text; // '/'
      text += this.match(T.ID, follow).text;
    } while (this.LA(1) === T.SLASH);
    return text;
  }

  private package(): string {
    switch (this.LA(1)) {
      case T.EOF:
      case T.EQUAL:
      case T.AT:
        return '';
      case T.ID:
      case T.KEY_SPECIAL:
      case T.DOT_PATH:
        return this.consume().text;
      default:
        this.noViableAlt(this.p, this.p);
    }
  }

  private value(): Node {
    const start = this.p;
    let end: number;
    try {
      end = this.scanElement(start, 0);
    } catch (e) {
      if (e instanceof Dead) this.noViableAlt(start, e.index);
      throw e;
    }
    if (this.at(end).type !== T.COMMA) return this.element();
    const items = [this.element()];
    do {
      this.consume();
      items.push(this.element());
    } while (this.LA(1) === T.COMMA);
    return { kind: 'sweep', items };
  }

  private element(): Node {
    this.syncBlock(FIRST_ELEMENT);
    this.enter();
    let node: Node;
    switch (this.LA(1)) {
      case T.BRACKET_OPEN:
        node = this.list();
        break;
      case T.BRACE_OPEN:
        node = this.dict();
        break;
      case T.ID:
        node = this.LA(2) === T.POPEN ? this.call() : this.primitive();
        break;
      default:
        node = this.primitive();
    }
    this.depth--;
    return node;
  }

  private primitive(): PrimitiveNode {
    if (this.LA(1) === T.QUOTED_VALUE) return { kind: 'primitive', tokens: [this.consume()] };
    const tokens: Token[] = [];
    do tokens.push(this.consume());
    while (PRIM_LOOP.has(this.LA(1)));
    return { kind: 'primitive', tokens };
  }

  private call(): CallNode {
    const nameTok = this.consume();
    this.consume(); // POPEN
    const args: CallNode['args'] = [];
    this.syncBlock(CALL_ARGS);
    if (FIRST_ELEMENT.has(this.LA(1))) {
      args.push(this.argument());
      this.syncBlock(CALL_LOOP);
      while (this.LA(1) === T.COMMA) {
        this.consume();
        this.syncBlock(FIRST_ELEMENT);
        args.push(this.argument());
        this.syncLoopBack(CALL_LOOP);
      }
    }
    const close = this.match(T.PCLOSE, null);
    return { kind: 'call', name: nameTok.text, args, start: nameTok.start, stop: close.stop };
  }

  /** `argName? element`: `name=` needs two tokens of lookahead, and fails there when neither fits. */
  private argument(): CallNode['args'][number] {
    let name: string | null = null;
    if (this.LA(1) === T.ID) {
      const next = this.LA(2);
      if (next === T.EQUAL) {
        name = this.consume().text;
        this.consume();
      } else if (!(next === T.POPEN || PRIM_LOOP.has(next) || CALL_LOOP.has(next))) {
        this.noViableAlt(this.p, this.p + 1);
      }
    }
    return { name, value: this.element() };
  }

  private list(): ListNode {
    this.consume();
    const items: Node[] = [];
    this.syncBlock(LIST_ITEMS);
    if (FIRST_ELEMENT.has(this.LA(1))) {
      items.push(this.element());
      this.syncBlock(LIST_LOOP);
      while (this.LA(1) === T.COMMA) {
        this.consume();
        items.push(this.element());
        this.syncLoopBack(LIST_LOOP);
      }
    }
    this.match(T.BRACKET_CLOSE, null);
    return { kind: 'list', items };
  }

  private dict(): DictNode {
    this.consume();
    const pairs: DictNode['pairs'] = [];
    this.syncBlock(DICT_ITEMS);
    if (DICT_KEY.has(this.LA(1))) {
      pairs.push(this.pair());
      this.syncBlock(DICT_LOOP);
      while (this.LA(1) === T.COMMA) {
        this.consume();
        pairs.push(this.pair());
        this.syncLoopBack(DICT_LOOP);
      }
    }
    this.match(T.BRACE_CLOSE, null);
    return { kind: 'dict', pairs };
  }

  private pair(): DictNode['pairs'][number] {
    this.syncBlock(DICT_KEY);
    const tokens: Token[] = [];
    do tokens.push(this.consume());
    while (DICT_KEY.has(this.LA(1)));
    this.match(T.COLON, FIRST_ELEMENT);
    return { key: { kind: 'primitive', tokens }, value: this.element() };
  }

  // ---- prediction for `value`: walk one element from token i without building anything; return the
  //      index after it, or throw Dead at the first token that fits no alternative.

  private scanElement(i: number, depth: number): number {
    if (depth > MAX_DEPTH) throw new DepthExceeded();
    const t = this.at(i).type;
    if (t === T.BRACKET_OPEN) return this.scanSeq(i + 1, T.BRACKET_CLOSE, depth, (j) => this.scanElement(j, depth + 1));
    if (t === T.BRACE_OPEN) return this.scanSeq(i + 1, T.BRACE_CLOSE, depth, (j) => this.scanPair(j, depth + 1));
    if (t === T.ID && this.at(i + 1).type === T.POPEN) return this.scanSeq(i + 2, T.PCLOSE, depth, (j) => this.scanArgument(j, depth + 1));
    if (t === T.QUOTED_VALUE) return i + 1;
    if (!PRIM_LOOP.has(t)) throw new Dead(i);
    while (PRIM_LOOP.has(this.at(i).type)) i++;
    return i;
  }

  /** `item (COMMA item)*` (optional) then `close`, from just after the opening token. */
  private scanSeq(i: number, close: T, depth: number, item: (j: number) => number): number {
    if (this.at(i).type === close) return i + 1;
    for (;;) {
      i = item(i);
      const t = this.at(i).type;
      if (t === close) return i + 1;
      if (t !== T.COMMA) throw new Dead(i);
      i++;
    }
  }

  private scanPair(i: number, depth: number): number {
    if (!DICT_KEY.has(this.at(i).type)) throw new Dead(i);
    while (DICT_KEY.has(this.at(i).type)) i++;
    if (this.at(i).type !== T.COLON) throw new Dead(i);
    return this.scanElement(i + 1, depth);
  }

  private scanArgument(i: number, depth: number): number {
    if (this.at(i).type === T.ID && this.at(i + 1).type === T.EQUAL) i += 2;
    return this.scanElement(i, depth);
  }
}
