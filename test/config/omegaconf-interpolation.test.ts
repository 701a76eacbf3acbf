import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeElement, resolveValueIn, type ResolveContext } from '../../src/config/omegaconf/resolve.js';
import { isInterpolation, parseInterpolation } from '../../src/config/omegaconf/interpolation.js';
import { OmegaConfError } from '../../src/config/omegaconf/errors.js';
import { type ConfigDict, type ConfigValue, Float } from '../../src/config/values.js';

// Behaviour of OmegaConf 2.3's grammar (singleElement / configValue rules), checked against its own test vectors.

const cfg: ConfigDict = {
  str: 'hi',
  int: 123,
  float: new Float(1.2),
  dict: { a: 0, b: { c: 1 } },
  list: Array.from({ length: 11 }, (_, i) => i - 1),
  null: null,
  'x@y': 123,
  '$x$y$z$': 456,
  FalsE: { TruE: true },
  '1': { '2': 12 },
  ref_str: 'str',
  options: { a: 'A', b: 'B' },
  choice: 'a',
  rel_opt: '.options',
};
const echo = (args: ConfigValue[]): ConfigValue => (args.length === 0 ? [] : args.length === 1 ? args[0]! : args);
const ctx: ResolveContext = { env: {}, resolvers: { test: echo, 'ns1.ns2.test': echo } };

const decode = (s: string): ConfigValue => decodeElement(s, cfg, ctx);
const value = (s: string): ConfigValue => resolveValueIn(cfg, [], s, ctx);

function fails(cls: string, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof OmegaConfError && e.className === cls);
}

test('primitives: null, bools, ints, floats (underscores, exponents, inf/nan), unquoted strings', () => {
  assert.equal(decode('null'), null);
  assert.equal(decode('TrUe'), true);
  assert.equal(decode('true_false'), 'true_false');
  assert.equal(decode('+123'), 123);
  assert.equal(decode('1_000'), 1000);
  assert.equal(decode('1_000_'), '1_000_');
  assert.equal(decode('007'), '007');
  assert.deepEqual(decode('1.1_1'), new Float(1.11));
  assert.deepEqual(decode('-1e2'), new Float(-100));
  assert.deepEqual(decode('1.'), new Float(1));
  assert.deepEqual(decode('-inf'), new Float(-Infinity));
  assert.ok(Number.isNaN((decode('nan') as Float).value));
  assert.equal(decode('1.+2'), '1.+2');
  assert.equal(decode('01e2'), '01e2');
  assert.equal(decode('hello world'), 'hello world');
  assert.equal(decode('a b\tc  \t\t  d'), 'a b\tc  \t\t  d');
  assert.equal(decode('/-\\+.$%*@?|'), '/-\\+.$%*@?|');
});

test('escapes in unquoted strings; illegal characters are grammar errors', () => {
  assert.equal(decode('\\ hello\\ world\\ '), ' hello world ');
  assert.equal(decode('hello\\, world'), 'hello, world');
  assert.equal(decode('a\\:b\\=c'), 'a:b=c');
  assert.equal(decode('\\(foo\\)\\[x\\]\\{y\\}'), '(foo)[x]{y}');
  assert.equal(decode('ab\\cd'), 'ab\\cd');
  fails('GrammarParseError', () => decode('a,=b'));
  fails('GrammarParseError', () => decode('\\#'));
  fails('GrammarParseError', () => decode('é'));
});

test('quoted strings: other quotes and escapes, errors on stray quotes', () => {
  assert.equal(decode('\'!@#$%^&*|()[]:.,"\''), '!@#$%^&*|()[]:.,"');
  assert.equal(decode("'  a \t'"), '  a \t');
  assert.equal(decode("'123'"), '123');
  assert.equal(decode("'abc\\'def'"), "abc'def");
  assert.equal(decode("'abc\\\\\\'def'"), "abc\\'def");
  assert.equal(decode("'abc\\\\'"), 'abc\\');
  assert.equal(decode("'abc\\def'"), 'abc\\def');
  assert.equal(decode('"abc\\"def"'), 'abc"def');
  assert.equal(decode("''"), '');
  fails('GrammarParseError', () => decode("'Hi''there'"));
  fails('GrammarParseError', () => decode("'a\\'"));
});

test('lists and dicts, including interpolated items and odd keys', () => {
  assert.deepEqual(decode("[10,str,3.14,true,inf,[1,2], 'a,b,c']"), [10, 'str', new Float(3.14), true, new Float(Infinity), [1, 2], 'a,b,c']);
  assert.deepEqual(decode('{x: 1, a: b, y: 1e2, true3: false}'), { x: 1, a: 'b', y: new Float(100), true3: false });
  assert.deepEqual(decode('{hi: ${str}, int: ${int}}'), { hi: 'hi', int: 123 });
  assert.deepEqual(decode('[${str}, ${int}]'), ['hi', 123]);
  assert.deepEqual(decode('{}'), {});
  assert.deepEqual(decode('[]'), []);
  fails('GrammarParseError', () => decode("{'a': 1}"));
  fails('GrammarParseError', () => decode('{[0]: 1}'));
});

test('node interpolations: dotted, bracketed, nested keys, odd key characters, whitespace', () => {
  assert.equal(decode('${dict.a}'), 0);
  assert.equal(decode('${list.0}'), -1);
  assert.equal(decode('${list[0]}'), -1);
  assert.equal(decode('${[dict].a}'), 0);
  assert.equal(decode('${dict[b][c]}'), 1);
  assert.equal(decode('${list.1_0}'), 9);
  assert.equal(decode('${1.2}'), 12);
  assert.equal(decode('${FalsE.TruE}'), true);
  assert.equal(decode('${x@y}'), 123);
  assert.equal(decode('${$x$y$z$}'), 456);
  assert.equal(decode('${ \tdict.a  \t}'), 0);
  assert.equal(decode('${${ref_str}}'), 'hi');
  assert.equal(decode('${options.${choice}}'), 'A');
  assert.equal(decode('${options[${choice}]}'), 'A');
  assert.equal(decode('${${rel_opt}.b}'), 'B');
  fails('InterpolationKeyError', () => decode('${list.-1}'));
  fails('GrammarParseError', () => decode('${dict .\ta}'));
  fails('GrammarParseError', () => decode("${'None'.'null'}"));
  fails('InterpolationResolutionError', () => decode('${dict.${float}}'));
});

test('resolver interpolations: arguments, whitespace, namespaces, nesting, empty items', () => {
  assert.deepEqual(decode('${test:}'), []);
  assert.deepEqual(decode('${test:a, b c}'), ['a', 'b c']);
  assert.deepEqual(decode('${test:[a, b], 0, [1.1]}'), [['a', 'b'], 0, [new Float(1.1)]]);
  assert.deepEqual(decode('${test:{a: 1.1, b: b}}'), { a: new Float(1.1), b: 'b' });
  assert.deepEqual(decode('${test:{a: 1.1, b:: b}}'), { a: new Float(1.1), b: ': b' });
  assert.equal(decode('${\t test:foo\t  }'), 'foo');
  assert.equal(decode('${test\t  : \tfoo}'), 'foo');
  assert.deepEqual(decode("${test:[\t a,   b,  ''\t  ]}"), ['a', 'b', '']);
  assert.equal(decode('${ns1.ns2.test:123}'), 123);
  assert.deepEqual(decode('${test:${str}, ${null}, ${int}}'), ['hi', null, 123]);
  assert.equal(decode('${test:${${test:${ref_str}}}}'), 'hi');
  assert.deepEqual(decode('${test:a,,b}'), ['a', '', 'b']);
  assert.equal(decode("'AB${test:'CD${test:'EF'}GH'}'"), 'ABCDEFGH');
  fails('UnsupportedInterpolationType', () => decode('${MiSsInG_ReSoLvEr:0}'));
  fails('GrammarParseError', () => decode('${y@z:}'));
  fails('GrammarParseError', () => decode('${0:1,2,3}'));
  fails('GrammarParseError', () => decode('${some_${resolver}:a}'));
});

test('top-level strings: concatenation, escapes, quotes and stray braces', () => {
  assert.equal(value('bonjour ${str}'), 'bonjour hi');
  assert.equal(value("'Bonjour ${str}', I said."), "'Bonjour hi', I said.");
  assert.equal(value("I'd like ${str}"), "I'd like hi");
  assert.equal(value('Esc: \\${str}'), 'Esc: ${str}');
  assert.equal(value('Wrong: $\\{str\\}'), 'Wrong: $\\{str\\}');
  assert.equal(value('Esc: \\\\${str}'), 'Esc: \\hi');
  assert.equal(value('Esc: \\\\\\\\${str}'), 'Esc: \\\\hi');
  assert.equal(value('\\\\\\\\\\${str}'), '\\\\${str}');
  assert.equal(value('$$${str}'), '$$hi');
  assert.equal(value('${str}$$$$'), 'hi$$$$');
  assert.equal(value('${null}${float}'), 'None1.2');
  assert.equal(value('  \tab  ${str} cd  ${int}\t'), '  \tab  hi cd  123\t');
  assert.equal(value('${str}}'), 'hi}');
  assert.equal(value('${test:"The root drive is: \\\\${str}:\\\\"}'), 'The root drive is: \\hi:\\');
  fails('GrammarParseError', () => value('${test:${str}'));
  fails('GrammarParseError', () => value('${${test:str}'));
});

test('isInterpolation and the parse cache', () => {
  assert.equal(isInterpolation('${a}'), true);
  assert.equal(isInterpolation('\\${a}'), true);
  assert.equal(isInterpolation('$a {b}'), false);
  assert.equal(isInterpolation(3), false);
  assert.equal(parseInterpolation('x_${a}'), parseInterpolation('x_${a}'));
});
