import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEntry, disableYamlCache, enableYamlCache, encodeEntry, loadYamlCached, pruneEntries, userYamlCacheDir, yamlCacheKey } from '../../src/config/yaml-cache.js';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import { composeConfig, type ComposeOptions } from '../../src/config/compose.js';
import { defaultConfigDir } from '../../src/util/package-root.js';
import { Float, type ConfigValue } from '../../src/config/values.js';

const TRICKY = [
  'a: 1',
  'b: 1.0',
  'c: -0.0',
  'd: .inf',
  'e: -.inf',
  'f: .nan',
  'g: 123456789012345678901234567890',
  'h: "\\0starts with NUL"',
  '__proto__: {x: 1}',
  '"1": int-like key',
  'i: [1, 2.5, "three", null, true, {j: 1e-5}]',
  'k: ${interp}',
  'l: 0x1f',
  'm: 1e3',
  '',
].join('\n');

/** Deep equality that tells Float from number, -0 from 0, and NaN from NaN (as config data needs). */
function same(a: ConfigValue, b: ConfigValue): boolean {
  if (a instanceof Float || b instanceof Float) return a instanceof Float && b instanceof Float && Object.is(a.value, b.value);
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]!));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && Object.prototype.hasOwnProperty.call(b, k) && same(a[k]!, b[k]!));
  }
  return a === b;
}

function tempDir(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fb-yaml-cache-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('an entry round-trips floats, -0, NaN, big ints, NUL-led strings and __proto__ keys exactly', () => {
  const value = loadYaml(TRICKY, 't.yaml');
  const key = yamlCacheKey(TRICKY, 's');
  const back = decodeEntry(encodeEntry(key, value), key);
  assert.ok(back !== undefined);
  assert.ok(same(value, back), 'decoded value differs from loadYaml');
  const proto = Object.getOwnPropertyDescriptor(back, '__proto__');
  assert.ok(proto !== undefined && proto.enumerable, '__proto__ must stay an own key');
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
});

test('keys change with the text and with the salt', () => {
  assert.notEqual(yamlCacheKey('a: 1\n', 's'), yamlCacheKey('a: 2\n', 's'));
  assert.notEqual(yamlCacheKey('a: 1\n', 's'), yamlCacheKey('a: 1\n', 't'));
  assert.equal(yamlCacheKey('a: 1\n', 's'), yamlCacheKey('a: 1\n', 's'));
});

test('entries that are corrupt, truncated or filed under another key are ignored', () => {
  const key = yamlCacheKey('a: 1', 's');
  const good = encodeEntry(key, { a: 1 });
  assert.equal(decodeEntry(good.slice(0, -3), key), undefined);
  assert.equal(decodeEntry('not json', key), undefined);
  assert.equal(decodeEntry(good, yamlCacheKey('a: 2', 's')), undefined);
  assert.equal(decodeEntry(JSON.stringify({ k: key, d: '\u0000zbad' }), key), undefined);
});

test('loadYamlCached writes an entry on a miss, reads it back, and skips a corrupt one', (t) => {
  const { dir, done } = tempDir();
  t.after(() => {
    disableYamlCache();
    done();
  });
  const write = join(dir, 'w');
  enableYamlCache({ salt: 'x', readDirs: [join(dir, 'missing'), write], writeDir: write }, {});
  const first = loadYamlCached(TRICKY, 'a.yaml');
  const files = readdirSync(write);
  assert.deepEqual(files, [`${yamlCacheKey(TRICKY, 'x')}.json`], 'one entry, no temp files left');
  const second = loadYamlCached(TRICKY, 'a.yaml');
  assert.ok(same(first, second));
  assert.notEqual(first, second, 'each load gives fresh objects');

  writeFileSync(join(write, files[0]!), '{"k":"truncat');
  const third = loadYamlCached(TRICKY, 'a.yaml');
  assert.ok(same(first, third));
  assert.ok(decodeEntry(readFileSync(join(write, files[0]!), 'utf8'), yamlCacheKey(TRICKY, 'x')) !== undefined, 'the corrupt entry is rewritten');
});

test('a cached load returns the very entry stored under its key (so the hash, not the file name, decides)', (t) => {
  const { dir, done } = tempDir();
  t.after(() => {
    disableYamlCache();
    done();
  });
  const text = 'a: 1\n';
  writeFileSync(join(dir, `${yamlCacheKey(text, 'y')}.json`), encodeEntry(yamlCacheKey(text, 'y'), { a: 'from cache' }));
  enableYamlCache({ salt: 'y', readDirs: [dir], writeDir: null }, {});
  assert.deepEqual(loadYamlCached(text, 'a.yaml'), { a: 'from cache' });
  assert.deepEqual(loadYamlCached('a: 2\n', 'a.yaml'), { a: 2 }, 'an edited text misses');
});

test('FUSION_BENCH_NO_CACHE=1 keeps the cache off; bad YAML still fails and is not stored', (t) => {
  const { dir, done } = tempDir();
  t.after(() => {
    disableYamlCache();
    done();
  });
  enableYamlCache({ salt: 'z', readDirs: [dir], writeDir: dir }, { FUSION_BENCH_NO_CACHE: '1' });
  loadYamlCached('a: 1\n', 'a.yaml');
  assert.deepEqual(readdirSync(dir), []);
  enableYamlCache({ salt: 'z', readDirs: [dir], writeDir: dir }, {});
  assert.throws(() => loadYamlCached('a: [1\n', 'bad.yaml'), /Invalid YAML in bad\.yaml/);
  assert.deepEqual(readdirSync(dir), []);
});

test('userYamlCacheDir follows XDG_CACHE_HOME', () => {
  assert.equal(userYamlCacheDir({ XDG_CACHE_HOME: '/x/cache' }), join('/x/cache', 'fusion-bench', 'yaml'));
});

test('pruneEntries trims the oldest entries once over the limit', (t) => {
  const { dir, done } = tempDir();
  t.after(done);
  for (let i = 0; i < 6; i++) {
    const f = join(dir, `e${i}.json`);
    writeFileSync(f, '{}');
    utimesSync(f, 1000 + i, 1000 + i);
  }
  assert.equal(pruneEntries(dir, 10, 3), 0);
  assert.equal(pruneEntries(dir, 5, 3), 3);
  assert.deepEqual(readdirSync(dir).sort(), ['e3.json', 'e4.json', 'e5.json']);
});

test('composition through the cache equals composition without it, cold and warm', (t) => {
  const { dir, done } = tempDir();
  t.after(() => {
    disableYamlCache();
    done();
  });
  const opts: ComposeOptions = {
    configPath: defaultConfigDir,
    configName: 'fabric_model_fusion',
    overrides: ['modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA8', 'method=task_arithmetic'],
    runMode: 'RUN',
    withHydra: true,
    env: {},
    cwd: dir,
    configDirs: [],
  };
  const plain = composeConfig(opts).config;
  enableYamlCache({ salt: 'c', readDirs: [dir], writeDir: dir }, {});
  const cold = composeConfig(opts).config;
  const written = readdirSync(dir).length;
  assert.ok(written > 10, `expected entries for every config read, got ${written}`);
  const warm = composeConfig(opts).config;
  assert.equal(readdirSync(dir).length, written, 'a warm composition writes nothing');
  // hydra.runtime carries the time and the like only through interpolations, so the trees compare whole
  assert.ok(same(plain, cold) && same(plain, warm));
});
