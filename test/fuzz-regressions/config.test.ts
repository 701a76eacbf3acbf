/**
 * Inputs that once broke the "one UserError" rule in the config layer (issue 14's table and issue 11's
 * list): each failed before its fix with a JS stack, a hang or gigabytes of memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeConfig } from '../../src/config/compose.js';
import { parseOverride } from '../../src/config/overrides/index.js';
import { resolveAll } from '../../src/config/omegaconf/resolve.js';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import { toYaml } from '../../src/config/omegaconf/dump.js';
import { disableYamlCache, enableYamlCache, loadYamlCached } from '../../src/config/yaml-cache.js';
import { cloneValue, type ConfigDict } from '../../src/config/values.js';
import { failsWithUserError, tempDir } from './support.js';

function compose(dir: string, name: string, overrides: string[] = []) {
  return composeConfig({ configPath: dir, configName: name, overrides, runMode: 'RUN', withHydra: false, env: {} });
}

test("-m 'x=range(0,inf)' and range(0,nan) are an override error, not a Decimal stack", async () => {
  for (const input of ['x=range(0,inf)', 'x=range(0,nan)', 'x=range(-inf,0,1.5)']) {
    await failsWithUserError(() => parseOverride(input).sweepValues(), new RegExp(`Override '${input.replace(/[()]/g, '\\$&')}'`), /finite/);
  }
});

test("'+=a' (an append naming no group) is a composition error, not 'internal: empty group'", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'c.yaml'), 'a: 1\n');
  await failsWithUserError(() => compose(dir, 'c', ['+=a']), /Could not append '\+=a'/);
  await failsWithUserError(() => compose(dir, 'c', ['+@p=a']), /Could not append/);
});

test('an override key 3000 levels deep is refused before it nests the config', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'c.yaml'), 'a: 1\n');
  const key = Array.from({ length: 3000 }, () => 'a').join('.');
  await failsWithUserError(() => compose(dir, 'c', [`+${key}=1`]), /the key has 3000 levels; at most 100/);
  // A long key within the limit still composes and prints.
  const ok = compose(dir, 'c', [`+${Array.from({ length: 90 }, () => 'b').join('.')}=1`]);
  assert.ok(toYaml(ok.config).length > 0);
});

test('interpolations nested 2000 deep, and oc.decode of 3000 brackets, are grammar errors', async () => {
  const n = 2000;
  await failsWithUserError(() => resolveAll({ x: '${a:'.repeat(n) + '1' + '}'.repeat(n) }, { env: {} }), /nest more than 100 levels/);
  await failsWithUserError(() => resolveAll({ x: '${oc.decode:' + '['.repeat(3000) + ']'.repeat(3000) + '}' }, { env: {} }), /nest more than 100 levels/);
});

test('long chains of nested resolver calls stop at the recursion report, not the JS stack', async () => {
  for (const nest of [1, 20, 48]) {
    const cfg: ConfigDict = { k400: 'x' };
    for (let i = 0; i < 400; i++) cfg[`k${i}`] = '${oc.select:'.repeat(nest) + `\${k${i + 1}}` + '}'.repeat(nest);
    await failsWithUserError(() => resolveAll(cfg, { env: {} }), /RecursionError raised while resolving interpolation/);
  }
});

test("a doubling chain (k0: x, kN: '${k(N-1)}${k(N-1)}') is refused at the size limit instead of taking 35 s and 1 GB", async () => {
  const cfg: ConfigDict = { k0: 'x' };
  for (let i = 1; i <= 24; i++) cfg[`k${i}`] = `\${k${i - 1}}\${k${i - 1}}`;
  await failsWithUserError(() => resolveAll(cfg, { env: {} }), /the value of 'k19' would resolve to more than 262144 characters/);
  // Below the limit the same chain resolves, each key once.
  const small: ConfigDict = { k0: 'x' };
  for (let i = 1; i <= 12; i++) small[`k${i}`] = `\${k${i - 1}}\${k${i - 1}}`;
  assert.equal((resolveAll(small, { env: {} }).k12 as string).length, 4096);
});

test('an interpolation cycle names its keys', async () => {
  const msg = await failsWithUserError(() => resolveAll(loadYaml('a: ${b}\nb: ${c}\nc: ${a}\n', 't.yaml') as ConfigDict, { env: {} }), /Recursive interpolation detected/);
  assert.match(msg, /b -> c -> a -> b|a -> b -> c -> a/);
});

test("'a:' followed by 5000 nested '- ' is a YAML error naming the file, not a stack overflow", async (t) => {
  await failsWithUserError(() => loadYaml('a:\n' + '- '.repeat(5000) + '1\n', 'deep.yaml'), /deep\.yaml, line 2: collections nest more than 500 levels deep/);
  await failsWithUserError(() => loadYaml('a: ' + '['.repeat(5000) + ']'.repeat(5000) + '\n', 'flow.yaml'), /flow\.yaml/, /nest more than 500/);
  // Through composition too.
  const dir = tempDir(t);
  writeFileSync(join(dir, 'c.yaml'), 'a:\n' + '- '.repeat(5000) + '1\n');
  await failsWithUserError(() => compose(dir, 'c'), /c\.yaml/);
});

test('a billion-laughs alias chain is refused, and nothing lands in the parsed-YAML cache', async (t) => {
  let bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\n';
  for (const [p, c] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h']]) bomb += `${c}: &${c} [${Array(9).fill(`*${p}`).join(',')}]\n`;
  await failsWithUserError(() => loadYaml(bomb, 'bomb.yaml'), /aliases expand to more than/, /bomb\.yaml/);
  const cache = tempDir(t);
  enableYamlCache({ salt: 'test', readDirs: [cache], writeDir: cache }, {});
  try {
    await failsWithUserError(() => loadYamlCached(bomb, 'bomb.yaml'), /aliases expand/);
    // A large but legitimate document parses, and its entry (over 1 MiB) is not written either.
    const big = `l: [${Array.from({ length: 60_000 }, (_, i) => `"value number ${i}"`).join(', ')}]\n`;
    assert.equal((loadYamlCached(big, 'big.yaml') as { l: string[] }).l.length, 60_000);
    // A small document is cached as before.
    loadYamlCached('a: 1\n', 'small.yaml');
  } finally {
    disableYamlCache();
  }
  assert.equal(readdirSync(cache).filter((f) => f.endsWith('.json')).length, 1);
  // A few aliases, as configs use them, still work.
  assert.deepEqual(loadYaml('base: &b {x: 1}\nuse: *b\n', 'ok.yaml'), { base: { x: 1 }, use: { x: 1 } });
});

test('a non-UTF-8 byte in a YAML file is an error naming the file, line and byte, not a silent U+FFFD', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'c.yaml'), Buffer.from([...Buffer.from('a: 1\nb: caf'), 0xe9, 0x0a]));
  await failsWithUserError(() => compose(dir, 'c'), /c\.yaml is not UTF-8: byte 0xe9 at offset 11 \(line 2\)/);
  writeFileSync(join(dir, 'ok.yaml'), Buffer.from('a: café\n', 'utf8'));
  assert.equal(compose(dir, 'ok').config.a, 'café');
});

test('a defaults list that includes itself, or two that include each other, names the chain of files', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'grp'));
  writeFileSync(join(dir, 'grp', 'self.yaml'), 'defaults:\n  - self\n');
  writeFileSync(join(dir, 'grp', 'p.yaml'), 'defaults:\n  - q\n');
  writeFileSync(join(dir, 'grp', 'q.yaml'), 'defaults:\n  - p\n');
  writeFileSync(join(dir, 'useself.yaml'), 'defaults:\n  - grp: self\n');
  writeFileSync(join(dir, 'usep.yaml'), 'defaults:\n  - grp: p\n');
  writeFileSync(join(dir, 'root.yaml'), 'defaults:\n  - root\n');
  const self = await failsWithUserError(() => compose(dir, 'useself'), /includes itself/);
  assert.match(self, /grp\/self \(.*self\.yaml\)\n  -> grp\/self/);
  const pair = await failsWithUserError(() => compose(dir, 'usep'), /includes itself/);
  assert.match(pair, /grp\/p \(.*p\.yaml\)\n  -> grp\/q \(.*q\.yaml\)\n  -> grp\/p/);
  await failsWithUserError(() => compose(dir, 'root'), /root \(.*root\.yaml\)\n  -> root/);
});

test('resolver arguments nested 1500 deep inside a defaults-list entry are a grammar error', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'g'));
  writeFileSync(join(dir, 'g', 'o.yaml'), 'x: 1\n');
  writeFileSync(join(dir, 'c.yaml'), `defaults:\n  - g: \${oc.select:${'${oc.select:'.repeat(1500)}g${'}'.repeat(1500)}}\n`);
  await failsWithUserError(() => compose(dir, 'c'), /nest more than 100 levels/);
});

test('a config key named __proto__ stays an own key through copies, never the prototype', () => {
  const v = JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}') as ConfigDict;
  const copy = cloneValue(v);
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.ok(Object.hasOwn(copy, '__proto__'));
  assert.equal((copy as Record<string, unknown>).polluted, undefined);
  const resolved = resolveAll(loadYaml('__proto__: {polluted: 1}\nx: ${__proto__.polluted}\n', 'p.yaml') as ConfigDict, { env: {} });
  assert.equal(resolved.x, 1);
  assert.equal(Object.getPrototypeOf(resolved), Object.prototype);
});

test("'group=\\opt' reads the file the existence check found, not an ENOENT stack", (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'group'));
  writeFileSync(join(dir, 'c.yaml'), 'defaults:\n  - group: other\n  - _self_\n');
  writeFileSync(join(dir, 'group', 'opt.yaml'), 'y: 2\n');
  writeFileSync(join(dir, 'group', 'other.yaml'), 'y: 3\n');
  assert.deepEqual(compose(dir, 'c', ['group=\\opt']).config.group, { y: 2 });
});
