import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAll, resolveAt, type ResolveContext } from '../../src/config/omegaconf/resolve.js';
import { OmegaConfError } from '../../src/config/omegaconf/errors.js';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import { type ConfigDict, type ConfigValue, Float, cloneValue } from '../../src/config/values.js';

const ctx: ResolveContext = { env: {} };

function yaml(text: string): ConfigDict {
  return loadYaml(text, 'test.yaml') as ConfigDict;
}

function fails(cls: string, message: string | RegExp, fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OmegaConfError, `expected an OmegaConfError, got ${String(e)}`);
    assert.equal(e.className, cls, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('a whole-string interpolation keeps the type; string interpolation gives Python str() text', () => {
  const cfg = yaml('a: 1\nf: 0.5\nb: true\nn: null\nd: {x: 1}\nl: [1, 2]\nri: ${a}\nrf: ${f}\nrb: ${b}\nrn: ${n}\nrd: ${d}\nrl: ${l}\ns: a=${a},f=${f},b=${b},n=${n},d=${d}\n');
  const r = resolveAll(cfg, ctx);
  assert.equal(r.ri, 1);
  assert.deepEqual(r.rf, new Float(0.5));
  assert.equal(r.rb, true);
  assert.equal(r.rn, null);
  assert.deepEqual(r.rd, { x: 1 });
  assert.deepEqual(r.rl, [1, 2]);
  assert.equal(r.s, "a=1,f=0.5,b=True,n=None,d={'x': 1}");
});

test('relative interpolations count dots from the containing node; lists index by position', () => {
  const cfg = yaml('url: u\nnested:\n  a: 1\n  b: ${.a}\n  c: ${..url}\n  deep:\n    x: ${..a}\n    y: ${...url}\nl:\n- 10\n- ${.0}\n- ${l[0]}\n');
  const r = resolveAll(cfg, ctx);
  assert.deepEqual(r.nested, { a: 1, b: 1, c: 'u', deep: { x: 1, y: 'u' } });
  assert.deepEqual(r.l, [10, 10, 10]);
});

test('a referenced dict resolves its own relative interpolations where it lives', () => {
  const cfg = yaml('src:\n  a: 1\n  b: ${.a}\ncopy: ${src}\n');
  assert.deepEqual(resolveAll(cfg, ctx).copy, { a: 1, b: 1 });
});

test('chains of interpolations resolve, and the input is not modified', () => {
  const cfg = yaml('a: ${b}\nb: ${c}\nc: x_${d}\nd: 4\n');
  const before = cloneValue(cfg);
  assert.deepEqual(resolveAll(cfg, ctx), { a: 'x_4', b: 'x_4', c: 'x_4', d: 4 });
  assert.deepEqual(cfg, before);
});

test('escaped interpolations are un-escaped, other backslashes are kept', () => {
  const r = resolveAll(yaml('a: \\${not_interp}\nb: C:\\path\\x\nc: \\\\${v}\nv: 1\n'), ctx);
  assert.equal(r.a, '${not_interp}');
  assert.equal(r.b, 'C:\\path\\x');
  assert.equal(r.c, '\\1');
});

test('??? stays in resolveAll unless throwOnMissing; referencing it is an error', () => {
  const cfg = yaml('m: ???\nd:\n  k: ???\n');
  assert.deepEqual(resolveAll(cfg, ctx), { m: '???', d: { k: '???' } });
  fails('MissingMandatoryValue', 'Missing mandatory value: m', () => resolveAll(cfg, ctx, { throwOnMissing: true }));
  fails('MissingMandatoryValue', 'Missing mandatory value: d.k', () => resolveAt(cfg, 'd.k', ctx));
  fails(
    'InterpolationToMissingValueError',
    'MissingMandatoryValue while resolving interpolation: Missing mandatory value: d.k',
    () => resolveAll(yaml('m: ???\nd:\n  k: ???\nr: ${d.k}\n'), ctx),
  );
});

test('missing keys, bad relative keys, non-container parents', () => {
  fails('InterpolationKeyError', "Interpolation key 'does.not.exist' not found", () => resolveAll(yaml('a: 1\nb: ${does.not.exist}\n'), ctx));
  fails('InterpolationKeyError', "Interpolation key 'x' not found", () => resolveAll(yaml('n:\n  b: ${..x}\n'), ctx));
  fails('InterpolationKeyError', "ConfigKeyError while resolving interpolation: Error resolving key '..x'", () => resolveAll(yaml('b: ${..x}\n'), ctx));
  fails(
    'InterpolationResolutionError',
    'ConfigTypeError raised while resolving interpolation: Error trying to access a.b: node `a` is not a container and thus cannot contain `b`',
    () => resolveAll(yaml('a: 1\nr: ${a.b}\n'), ctx),
  );
});

test('cycles are detected instead of overflowing the stack', () => {
  for (const text of ['a: ${a}\n', 'a: ${b}\nb: ${a}\n', 'a:\n  a: ${b}\nb: ${a.a}\n', 'a: x ${a}\n', "a: ${oc.decode:'${a}'}\n", 'a: ${oc.env:X,${a}}\n']) {
    fails('InterpolationResolutionError', /^Recursive interpolation detected: /, () => resolveAll(yaml(text), ctx));
  }
  fails('InterpolationResolutionError', 'Interpolation to parent node detected', () => resolveAll(yaml('a:\n  a: ${a}\n'), ctx));
  fails('InterpolationResolutionError', 'Interpolation to parent node detected', () => resolveAll(yaml('a:\n  b: ${..a}\n'), ctx));
  assert.deepEqual(resolveAll(yaml('a: A\nb: ${a}_${a}\n'), ctx), { a: 'A', b: 'A_A' });
});

test('oc.env: value, default (converted to str), null default, unset error', () => {
  const env: ResolveContext = { env: { HOME_DIR: '/home/u', EMPTY: '' } };
  const r = resolveAll(
    yaml('a: ${oc.env:HOME_DIR}\nb: ${oc.env:UNSET,fallback}\nc: ${oc.env:UNSET,null}\nd: ${oc.env:UNSET,5}\ne: ${oc.env:UNSET,"."}\nf: ${oc.env:UNSET,${a}/data}\ng: ${oc.env:EMPTY,x}\nh: ${oc.env:UNSET,true}\n'),
    env,
  );
  assert.deepEqual(r, { a: '/home/u', b: 'fallback', c: null, d: '5', e: '.', f: '/home/u/data', g: '', h: 'True' });
  fails(
    'InterpolationResolutionError',
    'KeyError raised while resolving interpolation: "Environment variable \'UNSET\' not found"',
    () => resolveAll(yaml('a: ${oc.env:UNSET}\n'), env),
  );
});

test('oc.select, oc.decode, oc.create, oc.dict.keys/values, oc.deprecated', () => {
  const warnings: string[] = [];
  const c: ResolveContext = { env: { NUM: '10', LIST: '[1, 2]' }, warn: (m) => warnings.push(m) };
  const r = resolveAll(
    yaml(
      [
        'x: 1',
        'm: ???',
        'sel: ${oc.select:x}',
        'sel_default: ${oc.select:nope,7}',
        'sel_missing: ${oc.select:m,def}',
        'sel_none: ${oc.select:nope}',
        'num: ${oc.decode:${oc.env:NUM}}',
        'list: ${oc.decode:${oc.env:LIST}}',
        'dec_null: ${oc.decode:null}',
        "created: '${oc.create:{a: 1, b: [2]}}'",
        'models:',
        '  m1: a',
        '  m2: b',
        'names: ${oc.dict.keys:models}',
        'paths: ${oc.dict.values:models}',
        'old: ${oc.deprecated:x}',
        'grp:',
        '  local: 3',
        '  rel: ${oc.select:.local}',
      ].join('\n') + '\n',
    ),
    c,
  );
  assert.equal(r.sel, 1);
  assert.equal(r.sel_default, 7);
  assert.equal(r.sel_missing, 'def');
  assert.equal(r.sel_none, null);
  assert.equal(r.num, 10);
  assert.deepEqual(r.list, [1, 2]);
  assert.equal(r.dec_null, null);
  assert.deepEqual(r.created, { a: 1, b: [2] });
  assert.deepEqual(r.names, ['m1', 'm2']);
  assert.deepEqual(r.paths, ['a', 'b']);
  assert.equal(r.old, 1);
  assert.deepEqual(warnings, ["'old' is deprecated. Change your code and config to use 'x'"]);
  assert.deepEqual(r.grp, { local: 3, rel: 3 });
  fails('InterpolationResolutionError', "ConfigKeyError raised while resolving interpolation: Key not found: 'nope'", () => resolveAll(yaml('k: ${oc.dict.keys:nope}\n'), c));
  fails('InterpolationResolutionError', /TypeError raised while resolving interpolation: `oc.dict.keys` cannot be applied to objects of type: int/, () =>
    resolveAll(yaml('a: 1\nk: ${oc.dict.keys:a}\n'), c),
  );
});

test('now uses strftime on the given clock and caches per pattern; custom resolvers; unknown resolvers', () => {
  let calls = 0;
  const c: ResolveContext = {
    env: {},
    now: () => {
      calls++;
      return new Date(2024, 0, 2, 3, 4, 5);
    },
    resolvers: { add: (args) => (args as number[]).reduce((a, b) => a + b, 0) },
  };
  const r = resolveAll(yaml('a: ${now:%Y-%m-%d_%H-%M-%S}\nb: ${now:%Y-%m-%d_%H-%M-%S}\nc: ${now:%H:%M}\nsum: ${add:1,2,3}\n'), c);
  assert.deepEqual(r, { a: '2024-01-02_03-04-05', b: '2024-01-02_03-04-05', c: '03:04', sum: 6 });
  assert.equal(calls, 2);
  const real = resolveAll(yaml('t: ${now:%Y}\n'), { env: {} });
  assert.equal(real.t, String(new Date().getFullYear()));
  fails('UnsupportedInterpolationType', 'Unsupported interpolation type foo', () => resolveAll(yaml('a: ${foo:1}\n'), c));
});

test('hydra: reads the given hydra node; missing paths and ??? give null; no node is an error', () => {
  const hydra = yaml('job:\n  name: app\n  config_name: cfg\nruntime:\n  cwd: /srv/job\n  output_dir: ???\n  choices:\n    db: mysql\n');
  const c: ResolveContext = { env: {}, hydra };
  const r = resolveAll(yaml('n: ${hydra:job.name}\nd: ${hydra:runtime.choices.db}\nall: ${hydra:runtime.choices}\nout: ${hydra:runtime.output_dir}\nnope: ${hydra:x.y}\ns: ${hydra:runtime.cwd}/sub\n'), c);
  assert.deepEqual(r, { n: 'app', d: 'mysql', all: { db: 'mysql' }, out: null, nope: null, s: '/srv/job/sub' });
  fails('InterpolationResolutionError', 'ValueError raised while resolving interpolation: HydraConfig was not set', () => resolveAll(yaml('a: ${hydra:job.name}\n'), ctx));
});

test('resolveAt selects with interpolations along the path', () => {
  const cfg = yaml("a:\n  b: ${c}\nc:\n  d: 5\n  e: ${.d}\nl: [x, '${c.d}']\n");
  assert.equal(resolveAt(cfg, 'a.b.d', ctx), 5);
  assert.deepEqual(resolveAt(cfg, 'a.b', ctx), { d: 5, e: 5 });
  assert.equal(resolveAt(cfg, 'l[1]', ctx), 5);
  assert.equal(resolveAt(cfg, 'zz', ctx), undefined);
});

test('a grammar error in a value is reported when it is resolved', () => {
  fails('GrammarParseError', /.*/, () => resolveAll(yaml("a: ${b\nb: '1'\n") as ConfigDict, ctx));
  const r = resolveAll({ text: 'costs $5 {not an interpolation}' } as Record<string, ConfigValue>, ctx);
  assert.equal(r.text, 'costs $5 {not an interpolation}');
});

test('mutually referencing dicts stop with a RecursionError report; long legit chains resolve', () => {
  fails('InterpolationResolutionError', /RecursionError raised while resolving interpolation/, () => resolveAll({ a: { b: '${c}' }, c: { d: '${a}' } }, ctx));
  const chain: ConfigDict = { v0: 1 };
  for (let i = 1; i < 200; i++) chain[`v${i}`] = `\${v${i - 1}}`;
  assert.equal(resolveAll(chain, ctx).v199, 1);
});
