/**
 * Turns the syntax tree into Hydra's parsed values, as Hydra's `HydraOverrideVisitor` does: primitives
 * typed from their single token (or joined into a string, trimmed, escapes removed), quoted strings kept
 * as `QuotedString`, dicts merged like Python dicts, function calls evaluated (functions.ts).
 */
import { Float } from '../values.js';
import { PyError, floatToken, intToken, pyEq } from './python.js';
import { callFunction, UnknownFunction } from './functions.js';
import type { CallNode, Node, PrimitiveNode } from './parser.js';
import { T, type Token } from './tokens.js';
import { ChoiceSweep, ParsedDict, QuotedString, type DictKey, type FunctionValue, type ParsedElement } from './types.js';

/** An error raised while computing values (Hydra: "Error parsing override '...'\n<message>"). */
export class ValueFailure extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

export class Visitor {
  constructor(private readonly source: (start: number, stop: number) => string) {}

  value(node: Node): FunctionValue {
    if (node.kind === 'sweep') return new ChoiceSweep(node.items.map((n) => this.element(n)), true);
    return this.element(node);
  }

  element(node: Node): FunctionValue {
    switch (node.kind) {
      case 'primitive':
        return this.primitive(node);
      case 'list':
        return node.items.map((n) => this.element(n));
      case 'dict': {
        const entries: Array<[DictKey, ParsedElement]> = [];
        for (const { key, value } of node.pairs) {
          const k = this.primitive(key) as DictKey;
          const v = this.element(value) as ParsedElement;
          // Python dict semantics: an equal key (1 == 1.0 == True) keeps its first position, takes the new value.
          const existing = entries.findIndex(([x]) => pyEq(x, k) || (Number.isNaN(x as number) && x === k));
          if (existing >= 0) entries[existing][1] = v;
          else entries.push([k, v]);
        }
        return new ParsedDict(entries);
      }
      case 'call':
        return this.call(node);
      case 'sweep':
        throw new Error('a sweep is not an element');
    }
  }

  private call(node: CallNode): FunctionValue {
    const args: FunctionValue[] = [];
    const kwargs = new Map<string, FunctionValue>();
    let inKwargs = false;
    for (const a of node.args) {
      if (a.name !== null) {
        inKwargs = true;
        kwargs.set(a.name, this.element(a.value));
      } else {
        if (inKwargs) throw new ValueFailure('positional argument follows keyword argument', node.start);
        args.push(this.element(a.value));
      }
    }
    try {
      return callFunction(node.name, args, kwargs);
    } catch (e) {
      if (e instanceof PyError || e instanceof UnknownFunction) {
        throw new ValueFailure(`${e.pyType} while evaluating '${this.source(node.start, node.stop)}': ${e.message}`, node.start);
      }
      throw e;
    }
  }

  /** Hydra's `_createPrimitive`. */
  primitive(node: PrimitiveNode): ParsedElement {
    const toks = node.tokens;
    let first = 0;
    let last = toks.length;
    if (toks[0].type === T.WS) {
      if (last === 1) throw new ValueFailure('Trying to parse a primitive that is all whitespaces', toks[0].start);
      first = 1;
    }
    if (toks[toks.length - 1].type === T.WS) last--;
    if (last - first > 1) {
      let s = '';
      for (let i = first; i < last; i++) s += toks[i].type === T.ESC ? unescape(toks[i].text) : toks[i].text;
      return s;
    }
    return single(toks[first]);
  }
}

function unescape(esc: string): string {
  let out = '';
  for (let i = 1; i < esc.length; i += 2) out += esc[i];
  return out;
}

function single(tok: Token): ParsedElement {
  switch (tok.type) {
    case T.QUOTED_VALUE:
      return new QuotedString(unquote(tok.text), tok.text[0] === "'" ? 'single' : 'double');
    case T.INT:
      return intToken(tok.text);
    case T.FLOAT:
      return new Float(floatToken(tok.text));
    case T.NULL:
      return null;
    case T.BOOL:
      return tok.text.toLowerCase() === 'true';
    case T.ESC:
      return unescape(tok.text);
    default:
      return tok.text;
  }
}

/**
 * The text of a QUOTED_VALUE token: quotes removed, and each run of backslashes before a quote halved
 * (an odd run also un-escapes that quote), as Hydra's `_unescape_quoted_string`.
 */
export function unquote(token: string): string {
  const qc = token[0];
  const body = token.slice(1); // keeps the closing quote, so a run before it is seen
  let out = '';
  let i = 0;
  while (i < body.length) {
    if (body[i] !== '\\') {
      out += body[i++];
      continue;
    }
    let j = i;
    while (j < body.length && body[j] === '\\') j++;
    if (j < body.length && body[j] === qc) {
      const run = body.slice(i, j + 1);
      for (let k = 1; k < run.length; k += 2) out += run[k];
      i = j + 1;
    } else {
      out += body.slice(i, j);
      i = j;
    }
  }
  // The closing quote is copied above unless a (necessarily even) run of backslashes consumed it.
  return body.length >= 2 && body[body.length - 2] === '\\' ? out : out.slice(0, -1);
}
