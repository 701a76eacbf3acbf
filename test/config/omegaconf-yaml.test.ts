import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, loadYaml, readPackageHeader } from '../../src/config/omegaconf/yaml.js';
import { UserError } from '../../src/errors.js';
import { type ConfigValue, Float } from '../../src/config/values.js';

function value(text: string): ConfigValue {
  return (loadYaml(`a: ${text}`, 'test.yaml') as Record<string, ConfigValue>).a!;
}

function assertFloat(v: ConfigValue, x: number): void {
  assert.ok(v instanceof Float, `expected a Float, got ${String(v)}`);
  if (Number.isNaN(x)) assert.ok(Number.isNaN(v.value));
  else assert.equal(v.value, x);
}

test('PyYAML 1.1 booleans: yes/no/on/off/true/false in three cases, but not y/n', () => {
  for (const t of ['yes', 'Yes', 'YES', 'on', 'On', 'ON', 'true', 'True', 'TRUE']) assert.equal(value(t), true, t);
  for (const t of ['no', 'No', 'NO', 'off', 'Off', 'OFF', 'false', 'False', 'FALSE']) assert.equal(value(t), false, t);
  for (const t of ['y', 'Y', 'n', 'N', 'yES', 'oN', 'tRUE']) assert.equal(value(t), t, t);
});

test('PyYAML 1.1 integers: hex, leading-zero octal, binary, underscores, sexagesimal; 0o17 stays a string', () => {
  assert.equal(value('0x1F'), 31);
  assert.equal(value('017'), 15);
  assert.equal(value('0b101'), 5);
  assert.equal(value('1_000'), 1000);
  assert.equal(value('-1_000'), -1000);
  assert.equal(value('+12'), 12);
  assert.equal(value('1:30'), 90);
  assert.equal(value('190:20:30'), 685230);
  assert.equal(value('0o17'), '0o17');
  assert.equal(value('09'), '09');
  assert.equal(value('12345678901234567890'), 12345678901234567890n);
});

test("floats: PyYAML's forms plus OmegaConf's exponent-without-dot rule", () => {
  assertFloat(value('1.0'), 1);
  assertFloat(value('1.'), 1);
  assertFloat(value('.5'), 0.5);
  // A sign before a bare fraction is not in either float rule.
  assert.equal(value('-.5'), '-.5');
  assertFloat(value('1e-3'), 0.001);
  assertFloat(value('1E5'), 100000);
  assertFloat(value('1.5e-05'), 1.5e-5);
  assertFloat(value('1_0.5'), 10.5);
  assertFloat(value('1:30.5'), 90.5);
  assertFloat(value('.inf'), Infinity);
  assertFloat(value('-.Inf'), -Infinity);
  assertFloat(value('+.INF'), Infinity);
  assertFloat(value('.nan'), NaN);
  assertFloat(value('.NaN'), NaN);
  // Python's float() words are not YAML floats.
  assert.equal(value('inf'), 'inf');
  assert.equal(value('nan'), 'nan');
});

test('nulls, empty values, no timestamps, quoted scalars stay strings', () => {
  assert.equal(value('~'), null);
  assert.equal(value('null'), null);
  assert.equal(value('Null'), null);
  assert.equal(value('NULL'), null);
  assert.equal(value(''), null);
  assert.equal(value('nULL'), 'nULL');
  assert.equal(value('2024-01-02'), '2024-01-02');
  assert.equal(value('2024-01-02 03:04:05'), '2024-01-02 03:04:05');
  assert.equal(value("'123'"), '123');
  assert.equal(value('"yes"'), 'yes');
  assert.equal(value("'it''s'"), "it's");
  assert.equal(value('"\\x41\\u00e9"'), 'Aé');
  assert.equal(value('${a.b}'), '${a.b}');
  assert.equal(value('???'), '???');
  assert.equal(value('\\${x}'), '\\${x}');
});

test('explicit tags', () => {
  assert.equal(value('!!str 12'), '12');
  assert.equal(value("!!int '12'"), 12);
  assertFloat(value('!!float 1'), 1);
  assert.equal(value('!!null x'), null);
  assert.equal(value('!!bool yes'), true);
  assert.throws(() => value('!foo x'), (e: Error) => e instanceof UserError && /could not determine a constructor for the tag '!foo'/.test(e.message));
});

test('a plain = cannot be read (PyYAML has no constructor for the value tag)', () => {
  assert.throws(() => value('='), (e: Error) => e instanceof UserError && /tag:yaml.org,2002:value/.test(e.message));
  assert.equal(value("'='"), '=');
});

test('duplicate keys are rejected, naming the file, the key and the line', () => {
  assert.throws(
    () => loadYaml('x: 1\nb: 2\nb: 3\n', 'conf/dup.yaml'),
    (e: Error) => e instanceof UserError && /found duplicate key b/.test(e.message) && /"conf\/dup\.yaml", line 3/.test(e.message),
  );
  assert.throws(() => loadYaml("b: 2\n'b': 3\n", 'x.yaml'), /found duplicate key b/);
  assert.throws(() => loadYaml('outer:\n  b: 2\n  b: 3\n', 'x.yaml'), /found duplicate key b/);
});

test('anchors, aliases and merge keys as PyYAML: explicit keys win, earlier merged maps win', () => {
  const doc = loadYaml(
    'base: &B {p: 1, q: 2}\nother: &O {p: 9, s: 5}\nchild:\n  r: 0\n  <<: [*B, *O]\n  q: 3\nlist: &L [1, 2]\ncopy: *L\n',
    'm.yaml',
  ) as Record<string, ConfigValue>;
  assert.deepEqual(Object.keys(doc.child as object), ['p', 's', 'q', 'r']);
  assert.deepEqual(doc.child, { p: 1, s: 5, q: 3, r: 0 });
  assert.deepEqual(doc.copy, [1, 2]);
  // Aliased data is copied, not shared.
  assert.notEqual(doc.copy, doc.list);
});

test('key order, nested structures, documents', () => {
  const doc = loadYaml('z: 1\na:\n  - x\n  - {b: [1, 2.5]}\nm: |\n  line1\n  line2\n', 'o.yaml') as Record<string, ConfigValue>;
  assert.deepEqual(Object.keys(doc), ['z', 'a', 'm']);
  const a = doc.a as ConfigValue[];
  assert.equal(a[0], 'x');
  assertFloat(((a[1] as Record<string, ConfigValue>).b as ConfigValue[])[1]!, 2.5);
  assert.equal(doc.m, 'line1\nline2\n');
  assert.equal(loadYaml('', 'empty.yaml'), null);
  assert.equal(loadYaml('# only a comment\n', 'c.yaml'), null);
  assert.deepEqual(loadYaml('- 1\n- a\n', 'l.yaml'), [1, 'a']);
});

test('syntax errors name the source', () => {
  assert.throws(() => loadYaml('a: [1, 2\n', 'bad/file.yaml'), (e: Error) => e instanceof UserError && e.message.includes('bad/file.yaml'));
  assert.throws(() => loadYaml('a: 1\n---\nb: 2\n', 'multi.yaml'), (e: Error) => e instanceof UserError && e.message.includes('multi.yaml'));
});

test('readPackageHeader reads only the leading comment block', () => {
  assert.equal(readPackageHeader('# @package _global_\na: 1\n'), '_global_');
  assert.equal(readPackageHeader('\n\n#   @package   foo.bar\n# @other x\nkey: v\n'), 'foo.bar');
  assert.equal(readPackageHeader('a: 1\n# @package _global_\n'), null);
  assert.equal(readPackageHeader('# a regular comment\n# @package _global_\n'), null);
  assert.equal(readPackageHeader('a: 1\n'), null);
  assert.throws(() => readPackageHeader('# @package\n'), /Expected header format: KEY VALUE/);
  assert.throws(() => readPackageHeader('# @package a b\n'), /Too many components/);
});

test('loadConfig follows OmegaConf.load: empty is {}, a string document is read again, other scalars fail', () => {
  assert.deepEqual(loadConfig('', 'e.yaml'), {});
  assert.deepEqual(loadConfig('foo\n', 's.yaml'), { foo: null });
  assert.deepEqual(loadConfig("'a: 1'\n", 'q.yaml'), { a: 1 });
  assert.deepEqual(loadConfig('- 1\n', 'l.yaml'), [1]);
  assert.throws(() => loadConfig('12\n', 'n.yaml'), (e: Error) => e instanceof UserError && e.message.includes('n.yaml'));
});

test('readPackageHeader looks at the first 512 characters only', () => {
  assert.equal(readPackageHeader('\n'.repeat(600) + '# @package _global_\n'), null);
});
