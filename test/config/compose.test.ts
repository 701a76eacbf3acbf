import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeConfig } from '../../src/config/compose.js';
import { pythonErrorClass } from '../../src/config/hydra-errors.js';
import { formatConfigGroups, isHydraGroup } from '../../src/config/groups.js';
import { Float } from '../../src/config/values.js';
import { writeTree } from './defaults-tree.js';

const tree = {
  'config.yaml': 'defaults:\n  - db: mysql\n  - server: apache\n  - _self_\napp:\n  name: demo\ndb:\n  port: 9999\n',
  'no_self.yaml': 'defaults:\n  - db: mysql\ndb:\n  port: 9999\n',
  'db/mysql.yaml': 'driver: mysql\nport: 3306\noptions:\n  flags: [x, y]\n',
  'db/postgresql.yaml': 'driver: postgresql\nport: 5432\n',
  'server/apache.yaml': 'defaults:\n  - site: fb\n  - _self_\nname: apache\nport: 80\n',
  'server/site/fb.yaml': 'domain: facebook.com\n',
  'pkg/header.yaml': '# @package foo.bar\nx: 1.5\n',
  'with_pkg.yaml': 'defaults:\n  - pkg: header\n  - db@backup.db: postgresql\n  - _self_\n',
  'searchpath.yaml': 'defaults:\n  - ext: one\n  - _self_\nhydra:\n  searchpath: [EXTRA]\n',
};

function run(dir: string, configName: string, overrides: string[] = []) {
  return composeConfig({ configPath: dir, configName, overrides, runMode: 'RUN', cwd: '/some/cwd' });
}

test('each default is merged at its package, in defaults-list order (_self_ last: the primary wins)', () => {
  const dir = writeTree(tree);
  const { config } = run(dir, 'config');
  const { hydra, ...job } = config;
  assert.deepEqual(job, {
    db: { driver: 'mysql', port: 9999, options: { flags: ['x', 'y'] } },
    server: { site: { domain: 'facebook.com' }, name: 'apache', port: 80 },
    app: { name: 'demo' },
  });
  assert.ok(hydra !== undefined);
  const p = run(dir, 'with_pkg').config;
  assert.deepEqual(p.foo, { bar: { x: new Float(1.5) } });
  assert.deepEqual(p.backup, { db: { driver: 'postgresql', port: 5432 } });
});

test('the hydra node carries the runtime information and the merged hydra configs', () => {
  const dir = writeTree(tree);
  const r = run(dir, 'no_self');
  assert.equal(r.warnings.length, 1);
  const h = r.config.hydra as Record<string, any>;
  assert.equal(h.runtime.version, '1.3.2');
  assert.equal(h.runtime.version_base, '1.3');
  assert.equal(h.runtime.cwd, '/some/cwd');
  assert.equal(h.runtime.output_dir, '???');
  assert.deepEqual(h.runtime.config_sources, [
    { path: 'hydra.conf', schema: 'pkg', provider: 'hydra' },
    { path: dir, schema: 'file', provider: 'main' },
    { path: '', schema: 'structured', provider: 'schema' },
  ]);
  assert.equal(h.runtime.choices.db, 'mysql');
  assert.equal(h.runtime.choices['hydra/launcher'], 'basic');
  assert.equal(h.job.name, 'cli');
  assert.equal(h.job.config_name, 'no_self');
  assert.equal(h.job.override_dirname, '');
  assert.equal(h.job.id, '???');
  assert.equal(h.run.dir, 'outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}');
  assert.equal(h.sweep.subdir, '${hydra.job.num}');
  assert.equal(h.launcher._target_, 'hydra._internal.core_plugins.basic_launcher.BasicLauncher');
  assert.equal(h.sweeper.max_batch_size, null);
  assert.equal(h.help.app_name, '${hydra.job.name}');
  assert.equal(h.hydra_help.hydra_help, '???');
  assert.equal(h.job_logging.handlers.file.filename, '${hydra.runtime.output_dir}/${hydra.job.name}.log');
  assert.equal(h.output_subdir, '.hydra');
  assert.deepEqual(h.env, {});
  assert.deepEqual(h.callbacks, {});
  assert.equal(h.verbose, false);
  assert.equal(h.mode, null);
});

test('hydra.searchpath in the primary config adds sources before the schema source', () => {
  const ext = writeTree({ 'ext/one.yaml': 'from_ext: 1\n' });
  const dir = writeTree({ ...tree, 'searchpath.yaml': tree['searchpath.yaml'].replace('EXTRA', `file://${ext}`) });
  const r = run(dir, 'searchpath');
  assert.deepEqual(r.config.ext, { from_ext: 1 });
  assert.deepEqual(
    r.searchPath.map((e) => e.provider),
    ['hydra', 'main', 'hydra.searchpath in main', 'schema'],
  );
  const missing = writeTree({ ...tree, 'searchpath.yaml': 'a: 1\nhydra:\n  searchpath: [pkg://not.a.module]\n' });
  assert.deepEqual(run(missing, 'searchpath').warnings, ['provider=hydra.searchpath in main, path=not.a.module is not available.']);
  const bad = writeTree({ 'c.yaml': 'hydra:\n  searchpath: 3\n' });
  assert.throws(() => run(bad, 'c'), { message: 'hydra.searchpath must be a list of strings. Got: 3' });
});

test('pkg://fusion_bench.config on the search path is our config folder', () => {
  const dir = writeTree({ 'c.yaml': 'a: 1\nhydra:\n  searchpath: [pkg://fusion_bench.config]\n' });
  const r = run(dir, 'c');
  assert.equal(r.repository.sources[2]!.root?.endsWith('config'), true);
  assert.deepEqual(r.warnings, []);
});

test('a missing primary config dir and a missing primary config are MissingConfigException', () => {
  assert.throws(
    () => run('/definitely/not/here', 'x'),
    (e: Error) =>
      pythonErrorClass(e) === 'hydra.errors.MissingConfigException' &&
      e.message === "Primary config directory not found.\nCheck that the config directory '/definitely/not/here' exists and readable",
  );
  const dir = writeTree(tree);
  assert.throws(() => run(dir, 'nope'), (e: Error) => pythonErrorClass(e) === 'hydra.errors.MissingConfigException');
});

test('no primary config: only hydra and appended groups', () => {
  const dir = writeTree(tree);
  const r = composeConfig({ configPath: dir, configName: null, overrides: [], runMode: 'RUN' });
  assert.deepEqual(Object.keys(r.config), ['hydra']);
  assert.equal((r.config.hydra as any).job.config_name, null);
});

test('a list config merges at a package; a list primary config is an error', () => {
  const dir = writeTree({ 'c.yaml': 'defaults:\n  - l: a\n  - _self_\n', 'l/a.yaml': '- 1\n- 2\n', 'top.yaml': '- 1\n' });
  assert.deepEqual(run(dir, 'c').config.l, [1, 2]);
  assert.throws(() => run(dir, 'top'), (e: Error) => pythonErrorClass(e) === 'hydra.errors.ConfigCompositionException' && e.message === "primary config 'top' must be a DictConfig, got ListConfig");
});

test('--help lists config groups with their options', () => {
  const dir = writeTree(tree);
  const r = run(dir, 'config');
  const app = formatConfigGroups(r.repository, (g) => !isHydraGroup(g));
  assert.equal(app, 'db: mysql, postgresql\npkg: header\nserver: apache\nserver/site: fb\n');
  const hydra = formatConfigGroups(r.repository, isHydraGroup);
  assert.match(hydra, /^hydra: config\nhydra\/env: default\nhydra\/help: default\nhydra\/hydra_help: default\nhydra\/hydra_logging: default, disabled, hydra_debug, none\nhydra\/job_logging: default, disabled, none, stdout\nhydra\/launcher: basic, joblib, submitit_local, submitit_slurm\nhydra\/output: default\nhydra\/sweeper: basic\n$/);
});

test('--config-dir folders are searched after the primary dir and must exist', () => {
  const dir = writeTree({ 'c.yaml': 'defaults:\n  - db: a\n  - _self_\n' });
  const extra = writeTree({ 'db/a.yaml': 'x: 1\n' });
  const r = composeConfig({ configPath: dir, configName: 'c', configDirs: [extra], overrides: [], runMode: 'RUN' });
  assert.deepEqual(r.config.db, { x: 1 });
  assert.deepEqual((r.config.hydra as any).runtime.config_sources[2], { path: extra, schema: 'file', provider: 'command-line' });
  assert.throws(
    () => composeConfig({ configPath: dir, configName: 'c', configDirs: ['/no/such/dir'], overrides: [], runMode: 'RUN' }),
    (e: Error) => pythonErrorClass(e) === 'hydra.errors.SearchPathException' && e.message === "Additional config directory '/no/such/dir' not found",
  );
});
