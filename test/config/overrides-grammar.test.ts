/**
 * Unit tests of the override grammar, taken from Hydra 1.3.2's tests/test_overrides_parser.py and from
 * runs of Hydra's own parser (its exact error messages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChoiceSweep,
  Glob,
  IntervalSweep,
  OverrideParseError,
  OverrideValueError,
  ParsedDict,
  QuotedString,
  RangeSweep,
  escapeSpecialCharacters,
  parseOverride,
  parseOverrides,
} from '../../src/config/overrides/index.js';
import { UserError } from '../../src/errors.js';
import { Float } from '../../src/config/values.js';

const value = (s: string) => parseOverride(`x=${s}`).value;
const SEE = '\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details';

function hydraError(input: string): OverrideParseError {
  try {
    parseOverride(input);
  } catch (e) {
    assert.ok(e instanceof OverrideParseError, `${input}: ${String(e)}`);
    assert.ok(e instanceof UserError);
    return e;
  }
  assert.fail(`${input} parsed`);
}

test('keys, packages and override types', () => {
  const cases: Array<[string, string, string, string | null, string]> = [
    ['db=mysql', 'CHANGE', 'db', null, 'db'],
    ['+db@pkg=mysql', 'ADD', 'db', 'pkg', '+db@pkg'],
    ['++a.b=1', 'FORCE_ADD', 'a.b', null, '++a.b'],
    ['~seed', 'DEL', 'seed', null, '~seed'],
    ['hydra/launcher=basic', 'CHANGE', 'hydra/launcher', null, 'hydra/launcher'],
    ['ab-c/d-ef=x', 'CHANGE', 'ab-c/d-ef', null, 'ab-c/d-ef'],
    ['$foo.bar$.x$z=1', 'CHANGE', '$foo.bar$.x$z', null, '$foo.bar$.x$z'],
    ['list.0=1', 'CHANGE', 'list.0', null, 'list.0'],
    ['group@=opt', 'CHANGE', 'group', '', 'group@'],
    ['group@$pkg1=opt', 'CHANGE', 'group', '$pkg1', 'group@$pkg1'],
    ['choice=reverse', 'CHANGE', 'choice', null, 'choice'],
  ];
  for (const [input, type, key, pkg, keyElement] of cases) {
    const o = parseOverride(input);
    assert.equal(o.type, type, input);
    assert.equal(o.keyOrGroup, key, input);
    assert.equal(o.package, pkg, input);
    assert.equal(o.keyElement, keyElement, input);
  }
  assert.equal(parseOverride('~x').valueType, null);
  assert.equal(parseOverride('~x=').value, '');
  assert.equal(parseOverride('hydra.run.dir=x').isHydraOverride(), true);
  assert.equal(parseOverride('hydrax=1').isHydraOverride(), false);
});

test('primitive values', () => {
  assert.equal(value('abc-123'), 'abc-123');
  assert.equal(value('a b c\t-\t1 2 3'), 'a b c\t-\t1 2 3');
  assert.equal(value(' abc-123 '), 'abc-123');
  assert.equal(value('123abc'), '123abc');
  assert.equal(value('a\\,b'), 'a,b');
  assert.equal(value('\\ ab'), ' ab');
  assert.equal(value('ab\\\\'), 'ab\\');
  assert.equal(value('f\\(a\\, b\\)'), 'f(a, b)');
  assert.equal(value('$\\{foo.bar\\}'), '${foo.bar}');
  assert.equal(value('c:\\foo\\a-b.txt'), 'c:\\foo\\a-b.txt');
  assert.equal(value('1___0___'), '1___0___');
  assert.equal(value('10_0'), 100);
  assert.equal(value('99999999999999999999'), 99999999999999999999n);
  assert.equal(value('+1'), 1);
  for (const [s, f] of [['0.51', 0.51], ['10e0', 10], ['+inf', Infinity], ['-10e1', -100], ['3.1_4', 3.14], ['1.', 1], ['.5', 0.5], ['INF', Infinity]] as const) {
    const v = value(s);
    assert.ok(v instanceof Float, s);
    assert.equal(v.value, f, s);
  }
  assert.ok(Number.isNaN((value('NaN') as Float).value));
  assert.equal(value('trUe'), true);
  assert.equal(value('faLse'), false);
  assert.equal(value('null'), null);
  assert.equal(value('.'), '.');
  assert.equal(value('${f.g:USER,root}'), '${f.g:USER,root}');
  assert.equal(value('${foo:[1,2,3]}'), '${foo:[1,2,3]}');
});

test('quoted strings keep their quote and escapes round-trip', () => {
  const cases: Array<[string, string, 'single' | 'double']> = [
    ["'foo \\'bar'", "foo 'bar", 'single'],
    ['"foo \\"bar"', 'foo "bar', 'double'],
    ["'foo \\\\\\'bar'", "foo \\'bar", 'single'],
    ["'foo\\bar'", 'foo\\bar', 'single'],
    ["'foo\\\\bar'", 'foo\\\\bar', 'single'],
    ["'foo bar\\\\'", 'foo bar\\', 'single'],
    ["'foo \\\\\\\\\\'bar\\' \\\\\\\\\\\\'", "foo \\\\'bar' \\\\\\", 'single'],
    ["'\t []{},=+~'", '\t []{},=+~', 'single'],
    ["'a \\'\\\\${b}\\''", "a '\\\\${b}'", 'single'],
    ["'${foo:\\'b,a,r\\'}'", "${foo:'b,a,r'}", 'single'],
    ["'שלום'", 'שלום', 'single'],
    ["''", '', 'single'],
  ];
  for (const [input, text, quote] of cases) {
    const v = value(input);
    assert.ok(v instanceof QuotedString, input);
    assert.equal(v.text, text, input);
    assert.equal(v.quote, quote, input);
    assert.equal(v.withQuotes(), input, `round trip of ${input}`);
    assert.equal(parseOverride(`x=${input}`).convertedValue(), text);
  }
});

test('lists, dicts and their text form', () => {
  assert.deepEqual(value('[1,[a]]'), [1, ['a']]);
  assert.deepEqual(value('[ 1 , 2 ]'), [1, 2]);
  const d = value('{a:10,b:{c:[1,2]}, null: 1, 1: x, true: y, white spaces: z}');
  assert.ok(d instanceof ParsedDict);
  assert.deepEqual(
    d.entries.map(([k]) => k),
    ['a', 'b', null, 1, true, 'white spaces'].slice(0, 3).concat([1, 'white spaces']),
  );
  // Python dict semantics: 1 and true are the same key; the first position wins, the last value.
  assert.equal(d.entries[3][1], 'y');
  assert.deepEqual(parseOverride('x={a:10,b:[1,2]}').convertedValue(), { a: 10, b: [1, 2] });
  const asStr: Array<[string, string, boolean]> = [
    ["key=['a b', 2, 3]", "['a b',2,3]", false],
    ["key=['a b', 2, 3]", "['a b', 2, 3]", true],
    ['key={a:10,b:[1,2,3]}', '{a: 10, b: [1, 2, 3]}', true],
    ['key={ white  space\t: 2}', '{white\\ \\ space: 2}', true],
    ['key=\\\\\\(\\)\\[\\]\\{\\}\\:\\=\\ \\\t\\,', '\\\\\\(\\)\\[\\]\\{\\}\\:\\=\\ \\\t\\,', false],
    ['key=3.1415', '3.1415', false],
    ['key=1e-5', '1e-05', false],
  ];
  for (const [input, text, space] of asStr) assert.equal(parseOverride(input).valueAsStr(space), text, input);
  assert.equal(escapeSpecialCharacters('ab\\(cd{ef}[gh]): ij,kl\t'), 'ab\\\\\\(cd\\{ef\\}\\[gh\\]\\)\\:\\ ij\\,kl\\\t');
});

test('sweeps, functions and casts', () => {
  const s = parseOverride('key=1 ,  2,\t\t3');
  assert.equal(s.valueType, 'SIMPLE_CHOICE_SWEEP');
  assert.deepEqual((s.value as ChoiceSweep).list, [1, 2, 3]);
  assert.throws(() => s.convertedValue(), OverrideValueError);
  assert.throws(() => s.valueAsStr(), OverrideValueError);
  const c = parseOverride('key=choice\t(  1\t\t )');
  assert.equal(c.valueType, 'CHOICE_SWEEP');
  const tagged = parseOverride('key=tag(a,b,choice([1,2],[3,4]))').value as ChoiceSweep;
  assert.deepEqual([...tagged.tags].sort(), ['a', 'b']);
  const r = parseOverride('x=range(1.0, 3.14, 0.5)');
  assert.ok(r.value instanceof RangeSweep);
  assert.deepEqual(r.sweepValues().map((v) => v.text), ['1.0', '1.5', '2.0', '2.5', '3.0']);
  // Python's FloatRange steps in decimal.Decimal: 0.1 accumulates exactly as there.
  assert.deepEqual(parseOverride('x=range(0,1,0.1)').sweepValues().map((v) => v.text), ['0.0', '0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7000000000000001', '0.8', '0.9']);
  assert.deepEqual(parseOverride('x=sort(range(1,10),reverse=True)').sweepValues().map((v) => v.value), [9, 8, 7, 6, 5, 4, 3, 2, 1]);
  assert.deepEqual(parseOverride('x=sort(range(1.5,-0.5,-0.5))').value, Object.assign(new RangeSweep(new Float(0), new Float(2), new Float(0.5)), {}));
  const iv = parseOverride('x=interval(start=2.72,end=3.14)').value;
  assert.ok(iv instanceof IntervalSweep);
  assert.equal(parseOverride('x=int(interval(1.0, 2.0))').valueType, 'INTERVAL_SWEEP');
  assert.deepEqual(value('sort([2,3,1],reverse=true)'), [3, 2, 1]);
  assert.deepEqual(value('str(\t  [  1,\t2  ]\t   )'), ['1', '2']);
  assert.deepEqual(value('float(sort(3,2,1))'), new ChoiceSweep([new Float(1), new Float(2), new Float(3)], true));
  assert.equal(value('bool(10.0)'), true);
  assert.equal(value("int('10')"), 10);
  assert.deepEqual(value('str({a:[0,1,2]})'), new ParsedDict([['a', ['0', '1', '2']]]));
  const g = parseOverride('x=glob(include=[a*, b*], exclude=c*)');
  assert.equal(g.valueType, 'GLOB_CHOICE_SWEEP');
  assert.ok(g.value instanceof Glob);
  assert.deepEqual(g.sweepValues(['abc', 'bcd', 'cab', 'b']).map((v) => v.value), ['abc', 'bcd', 'b']);
  assert.throws(() => g.sweepValues(), OverrideValueError);
  const sh = parseOverride('x=shuffle(range(1,10))');
  assert.deepEqual(sh.sweepValues().map((v) => v.value).sort(), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(
    parseOverride("x=choice([1, 1.1, '2', 'a'], [True, False])").sweepValues().map((v) => v.text),
    ["[1,1.1,'2','a']", '[True,False]'],
  );
});

test("syntax errors carry Hydra's message, the column, and a caret", () => {
  const cases: Array<[string, string, number]> = [
    ['seed=[1,', "no viable alternative at input '[1,'", 8],
    ['x=a=b', "mismatched input '=' expecting <EOF>", 3],
    ['key=[]aa', "Error parsing override 'key=[]aa'\nextraneous input 'aa' expecting <EOF>", 6],
    ['x', "Error parsing override 'x'\nmissing EQUAL at '<EOF>'", 1],
    ['a/', "mismatched input '<EOF>' expecting ID", 2],
    ['a/=b', "Error parsing override 'a/=b'\nextraneous input '=' expecting ID", 2],
    ['/a=b', "Error parsing override '/a=b'\nextraneous input '/' expecting {EQUAL, '~', '+', '@', KEY_SPECIAL, DOT_PATH, ID}", 0],
    ['', "mismatched input '<EOF>' expecting {EQUAL, '~', '+', '@', KEY_SPECIAL, DOT_PATH, ID}", 0],
    ["key={' abc ': 0}", "no viable alternative at input '{' abc ''", 5],
    ['$foo/bar=foobar', "mismatched input '/' expecting EQUAL", 4],
    ['x=1,{a}', "mismatched input '}' expecting ':'", 6],
    ['x=1,choice(a]', "no viable alternative at input 'a]'", 12],
    ['x=a,[1,]', "mismatched input ']' expecting {':', BRACKET_OPEN, BRACE_OPEN, FLOAT, INT, BOOL, NULL, UNQUOTED_CHAR, ID, ESC, WS, QUOTED_VALUE, INTERPOLATION}", 7],
    ['x=int(a)', "Error parsing override 'x=int(a)'\nValueError while evaluating 'int(a)': invalid literal for int() with base 10: 'a'", 2],
    ['x=sort(3,2,str(1))', "Error parsing override 'x=sort(3,2,str(1))'\nTypeError while evaluating 'sort(3,2,str(1))': '<' not supported between instances of 'str' and 'int'", 2],
    ['x=range(start=10,20,1)', "Error parsing override 'x=range(start=10,20,1)'\npositional argument follows keyword argument", 2],
    ['x=interval(1)', "Error parsing override 'x=interval(1)'\nTypeError while evaluating 'interval(1)': missing a required argument: 'end'", 2],
    ["x=int('10.0')", "Error parsing override 'x=int('10.0')'\nValueError while evaluating 'int('10.0')': invalid literal for int() with base 10: '10.0'", 2],
    ['x=int(inf)', "Error parsing override 'x=int(inf)'\nOverflowError while evaluating 'int(inf)': cannot convert float infinity to integer", 2],
  ];
  for (const [input, message, column] of cases) {
    const e = hydraError(input);
    assert.equal(e.hydraMessage, message + SEE, input);
    assert.equal(e.column, column, input);
    assert.equal(e.override, input);
    assert.equal(e.message, `${message}${SEE}\n${input}\n${' '.repeat(column)}^`, input);
  }
  // Lexer errors: Hydra already shows the input with a caret.
  const lex = hydraError("key=[1,2,3]'");
  assert.equal(lex.hydraMessage, "LexerNoViableAltException: key=[1,2,3]'\n" + ' '.repeat(38) + '^' + SEE);
  assert.equal(lex.message, lex.hydraMessage);
  assert.equal(lex.column, 11);
  // A lexer error later in the input wins over a "no viable alternative" (ANTLR lexes it all first).
  assert.equal(hydraError('@+90= _x').column, 2);
  // Columns count code points, as Python does.
  assert.equal(hydraError('x=\u{1F600}').column, 2);
  assert.equal(hydraError("x='\u{1F600}'a=b").column, 5); // 6 in UTF-16 units
});

test('parseOverrides keeps order and stops at the first bad override', () => {
  const got = parseOverrides(['x=10', 'y=[1,2]', 'z=a,b,c', 'z=choice(a,b,c)']);
  assert.deepEqual(got.map((o) => o.valueType), ['ELEMENT', 'ELEMENT', 'SIMPLE_CHOICE_SWEEP', 'CHOICE_SWEEP']);
  assert.throws(() => parseOverrides(['x=1', 'y=[', 'z=(']), (e: unknown) => e instanceof OverrideParseError && e.override === 'y=[');
});
