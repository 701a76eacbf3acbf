import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { assertSameConfig, configDifferences, listCases, parseErrorReport, readBulk, readCase, readConfigText } from '../helpers/conformance.js';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import { toYaml } from '../../src/config/omegaconf/dump.js';
import { resolveAll, type ResolveContext } from '../../src/config/omegaconf/resolve.js';
import { OmegaConfError } from '../../src/config/omegaconf/errors.js';
import { type ConfigDict, type ConfigValue, Float } from '../../src/config/values.js';

// Against the real OmegaConf 2.3 output in ../shared/conformance/hydra (see its README).

const casesDir = (): string => sharedPath('conformance', 'hydra', 'cases');
const bulkPath = (): string => sharedPath('conformance', 'hydra', 'bulk', 'fusion_bench_all_options.public.jsonl');
const FAKE_CWD = '/tmp/fusion-bench-conformance-cwd';
// The generator fixed ${now:...} at this moment.
const GENERATION_CLOCK = (): Date => new Date(2024, 0, 2, 3, 4, 5);

function hydraNode(configName: string, choices: ConfigValue): ConfigDict {
  return { job: { name: 'app', config_name: configName }, runtime: { cwd: FAKE_CWD, output_dir: '???', choices } };
}

test('toYaml(loadYaml(text)) reproduces every OmegaConf-written expected file byte for byte', needsShared(), () => {
  let n = 0;
  for (const dir of listCases(casesDir())) {
    const c = readCase(dir);
    if (c.mode !== 'compose') continue; // parse-mode files are plain yaml.dump, not OmegaConf's dumper
    for (const [name, text] of Object.entries(c.files)) {
      if (!name.endsWith('.yaml')) continue;
      assert.equal(toYaml(loadYaml(text, join(dir, name)) as ConfigValue), text, `${c.id}/${name}`);
      n++;
    }
  }
  for (const rec of readBulk(bulkPath())) {
    for (const text of [rec.unresolved, rec.resolved, rec.choices]) {
      if (text === null) continue;
      assert.equal(toYaml(loadYaml(text, rec.config_name) as ConfigValue), text, `${rec.config_name} ${rec.overrides.join(' ')}`);
      n++;
    }
  }
  assert.ok(n > 300, `only ${n} files compared`);
});

test('resolving each case from its expected.yaml gives expected_resolved.yaml, or the expected error', needsShared(), () => {
  let resolved = 0;
  let errors = 0;
  for (const dir of listCases(casesDir())) {
    const c = readCase(dir);
    const expectedResolved = c.files['expected_resolved.yaml'];
    const expectedError = c.files['expected_resolve_error.txt'];
    if (expectedResolved === undefined && expectedError === undefined) continue;
    const cfg = loadYaml(c.files['expected.yaml']!, 'expected.yaml') as ConfigDict;
    const choices = loadYaml(c.files['expected_choices.yaml']!, 'expected_choices.yaml');
    const ctx: ResolveContext = { env: c.env, hydra: hydraNode(c.configName!, choices), now: GENERATION_CLOCK };
    if (expectedResolved !== undefined) {
      const out = resolveAll(cfg, ctx);
      assert.equal(toYaml(out).split(FAKE_CWD).join('<CWD>'), expectedResolved, `case ${c.id}`);
      // And with the real clock, compared the way the CLI tests compare.
      assertSameConfig(toYaml(resolveAll(cfg, { ...ctx, now: undefined })), expectedResolved, { cwd: FAKE_CWD });
      resolved++;
    } else {
      const report = parseErrorReport(expectedError!);
      assert.throws(
        () => resolveAll(cfg, ctx),
        (e: unknown) => e instanceof OmegaConfError && e.omegaconfClass === report.error_class && e.message === report.error_message,
        `case ${c.id}`,
      );
      errors++;
    }
  }
  assert.ok(resolved >= 8 && errors >= 1, `resolved ${resolved}, errors ${errors}`);
});

test('resolving the bulk compositions gives their resolved text or resolve error', needsShared(), () => {
  let n = 0;
  for (const rec of readBulk(bulkPath())) {
    if (rec.unresolved === null) continue;
    const cfg = loadYaml(rec.unresolved, rec.config_name) as ConfigDict;
    const ctx: ResolveContext = { env: {}, hydra: hydraNode(rec.config_name, loadYaml(rec.choices, 'choices')), now: GENERATION_CLOCK };
    const label = `${rec.config_name} ${rec.overrides.join(' ')}`;
    if (rec.resolved !== null) {
      assert.equal(toYaml(resolveAll(cfg, ctx)).split(FAKE_CWD).join('<CWD>'), rec.resolved, label);
    } else if (rec.resolve_error !== null) {
      const report = parseErrorReport(rec.resolve_error);
      assert.throws(() => resolveAll(cfg, ctx), (e: unknown) => e instanceof OmegaConfError && e.omegaconfClass === report.error_class && e.message === report.error_message, label);
    }
    n++;
  }
  assert.ok(n >= 100, `only ${n} records`);
});

test('readCase parses cmd.txt and collects the expected files', needsShared(), () => {
  const c = readCase(join(casesDir(), '021'));
  assert.equal(c.mode, 'compose');
  assert.equal(c.configName, 'model_fusion');
  assert.equal(c.configDir, 'fusion_bench');
  assert.ok(c.configPath !== null && existsSync(join(c.configPath, 'model_fusion.yaml')));
  assert.deepEqual(c.overrides, []);
  assert.equal(c.resolve, true);
  assert.deepEqual(c.env, { FUSION_BENCH_PROJECT_ROOT: '/proj', FUSION_BENCH_CACHE_DIR: '/cache' });
  assert.ok('expected_resolved.yaml' in c.files);
  const e = readCase(join(casesDir(), '006'));
  assert.deepEqual(e.overrides, ['foo=1']);
  const report = parseErrorReport(e.files['expected_error.txt']!);
  assert.equal(report.cause_class, 'omegaconf.errors.ConfigAttributeError');
  assert.equal(report.cause_message, "Key 'foo' is not in struct\n    full_key: foo\n    object_type=dict");
  assert.ok(sharedDir !== null);
});

test('assertSameConfig compares as data: key order ignored, types strict, paths and dates masked, cli for app', () => {
  assertSameConfig('b: 1\na: x\n', 'a: x\nb: 1\n');
  assertSameConfig('', '{}\n');
  assertSameConfig('dir: /abs/conf/x\nwd: /run/here\nlog: out/2025-11-27_10-11-12\nname: cli\n', "dir: <CONFIG_DIR>/x\nwd: <CWD>\nlog: out/2024-01-02_03-04-05\nname: app\n", {
    configDir: '/abs/conf',
    cwd: '/run/here',
  });
  assert.throws(() => assertSameConfig('a: 1.0\n', 'a: 1\n'), /a: expected 1 \(int\), got 1\.0 \(float\)/);
  assert.throws(() => assertSameConfig("a: '1'\n", 'a: 1\n'), /a: expected 1 \(int\), got "1" \(str\)/);
  assert.throws(() => assertSameConfig('a: [1, 2]\n', 'a: [2, 1]\n'), /a\[0\]/);
  assert.throws(() => assertSameConfig('a: {b: 1, c: 2}\n', 'a: {b: 1}\n'), /a\.c: unexpected key/);
  assert.throws(() => assertSameConfig('a: 1\n', 'a: 1\nb: 2\n'), /b: expected 2 \(int\), got \(absent\)/);
  assert.throws(() => assertSameConfig('a: =\n', 'a: x\n'), /not YAML that OmegaConf could read/);
  assert.deepEqual(configDifferences({ f: new Float(NaN) }, readConfigText('f: .nan\n', 'x')), []);
});
