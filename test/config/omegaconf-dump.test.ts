import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toYaml } from '../../src/config/omegaconf/dump.js';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import { type ConfigValue, Float } from '../../src/config/values.js';

// Expected texts below were produced by PyYAML 6.0 with OmegaConf 2.3's dumper settings
// (yaml.dump(default_flow_style=False, allow_unicode=True, sort_keys=False) + OmegaConf's str representer).

test('strings that would read back as another type are single-quoted', () => {
  const k = ['y', '123', '=', '{log_dir}/x', '', '1e-3', 'null', '~', '0x1F', '1:30', '2024-01-02', '<<', '- a', 'a: b', '#x', 'a #b', 'x#y', ' lead', 'trail ', 'é中😀', 'inf', 'NaN', '+1_0', '0o17', 'True', 'on'];
  assert.equal(
    toYaml({ k }),
    "k:\n- 'y'\n- '123'\n- '='\n- '{log_dir}/x'\n- ''\n- '1e-3'\n- 'null'\n- '~'\n- '0x1F'\n- '1:30'\n- '2024-01-02'\n- '<<'\n- '- a'\n- 'a: b'\n- '#x'\n- 'a #b'\n- x#y\n- ' lead'\n- 'trail '\n- é中😀\n- 'inf'\n- 'NaN'\n- '+1_0'\n- 0o17\n- 'True'\n- 'on'\n",
  );
});

test('floats as Python repr, PyYAML specials, empty containers, null, nesting, quoted keys', () => {
  const v: ConfigValue = {
    e: {},
    l: [],
    n: null,
    nested: [[1, 2], { a: [3] }],
    f: [1, 1e-5, 1e16, -0, Infinity, -Infinity, NaN, 0.1].map((x) => new Float(x)),
  };
  assert.equal(
    toYaml(v),
    "e: {}\nl: []\n'n': null\nnested:\n- - 1\n  - 2\n- a:\n  - 3\nf:\n- 1.0\n- 1.0e-05\n- 1.0e+16\n- -0.0\n- .inf\n- -.inf\n- .nan\n- 0.1\n",
  );
  assert.equal(toYaml({}), '{}\n');
  assert.equal(toYaml({ a: true, b: false, c: 3, d: 12345678901234567890n }), 'a: true\nb: false\nc: 3\nd: 12345678901234567890\n');
});

test('long strings fold at width 80 like PyYAML (plain, single- and double-quoted)', () => {
  assert.equal(
    toYaml({ description: 'Merge the models with task arithmetic; the scaling factor is applied to the sum of the task vectors before adding them back' }),
    'description: Merge the models with task arithmetic; the scaling factor is applied\n  to the sum of the task vectors before adding them back\n',
  );
  assert.equal(
    toYaml({ a: { b: ['one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen'] } }),
    'a:\n  b:\n  - one two three four five six seven eight nine ten eleven twelve thirteen fourteen\n    fifteen sixteen\n',
  );
  assert.equal(
    toYaml({ q: "it's a quoted string: with colon and more words to push it past the eighty column limit of the emitter" }),
    "q: 'it''s a quoted string: with colon and more words to push it past the eighty column\n  limit of the emitter'\n",
  );
  assert.equal(
    toYaml({ t: 'tab\there and a long tail of words so that the double quoted style must fold this line somewhere after eighty' }),
    't: "tab\\there and a long tail of words so that the double quoted style must fold this\\\n  \\ line somewhere after eighty"\n',
  );
});

test('multi-line strings are single-quoted with doubled line breaks', () => {
  assert.equal(toYaml({ m: 'line one\nline two\n\nline four' }), "m: 'line one\n\n  line two\n\n\n  line four'\n");
});

test('dumped text reads back to the same data', () => {
  const v: ConfigValue = {
    s: ['y', '1e-3', '', 'a: b', '\\${x}', '${a.b}', '???', 'tab\tx', 'multi\nline', 'ü'],
    n: [1, -2, new Float(0.5), new Float(1e-7), null, true],
    d: { 'key with space': 1, '123': 'x', 'yes': 'no' },
  };
  assert.deepEqual(loadYaml(toYaml(v), 'rt.yaml'), v);
});
