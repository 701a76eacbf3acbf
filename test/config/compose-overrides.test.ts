import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composeConfig, type RunMode } from '../../src/config/compose.js';
import { pythonErrorClass } from '../../src/config/hydra-errors.js';
import { Float } from '../../src/config/values.js';
import { writeTree } from './defaults-tree.js';

const dir = writeTree({
  'config.yaml': 'defaults:\n  - db: mysql\n  - _self_\nseed: 1\nflag: false\nname: x\nnested:\n  a: 1\n  items: [1, 2]\nnothing: null\n',
  'db/mysql.yaml': 'driver: mysql\nport: 3306\n',
  'db/postgresql.yaml': 'driver: postgresql\nport: 5432\n',
  'extra/one.yaml': 'one: 1\n',
});

function compose(overrides: string[], runMode: RunMode = 'RUN') {
  return composeConfig({ configPath: dir, configName: 'config', overrides, runMode, cwd: '/cwd' });
}

function fails(overrides: string[], cls: string, message: string, causeClass?: string, runMode: RunMode = 'RUN'): void {
  assert.throws(
    () => compose(overrides, runMode),
    (e: Error) => {
      assert.equal(pythonErrorClass(e), cls);
      assert.equal(e.message, message);
      if (causeClass !== undefined) assert.equal(pythonErrorClass(e.cause), causeClass);
      return true;
    },
  );
}

test('value overrides: change, add, force-add, delete, typed values, dict merge', () => {
  const { config } = compose(['seed=2', '+new.deep=[1,2]', '++flag=true', '++brand_new=0.5', '~name', '~nested.a=1', 'nested={items: [3]}', 'db.port=1']);
  const { hydra, ...job } = config;
  assert.ok(hydra !== undefined);
  assert.deepEqual(job, {
    db: { driver: 'mysql', port: 1 },
    seed: 2,
    flag: true,
    nested: { items: [3] },
    nothing: null,
    new: { deep: [1, 2] },
    brand_new: new Float(0.5),
  });
});

test('group choices are applied before value overrides, whatever their order', () => {
  const { config } = compose(['db.port=7', 'db=postgresql']);
  assert.deepEqual(config.db, { driver: 'postgresql', port: 7 });
});

test("struct mode: changing a missing key says how to append; '+' on an existing key says how to force", () => {
  fails(['foo=1'], 'hydra.errors.ConfigCompositionException', "Could not override 'foo'.\nTo append to your config use +foo=1", 'omegaconf.errors.ConfigAttributeError');
  fails(['nested={b: 2}'], 'hydra.errors.ConfigCompositionException', "Could not override 'nested'.\nTo append to your config use +nested={b: 2}", 'omegaconf.errors.ConfigKeyError');
  fails(
    ['+seed=3'],
    'hydra.errors.ConfigCompositionException',
    "Could not append to config. An item is already at 'seed'.\nEither remove + prefix: 'seed=3'\nOr add a second + to add or override 'seed': '++seed=3'\n",
  );
  // '+' on a key holding null adds (Hydra's select returns None for it).
  assert.equal(compose(['+nothing=4']).config.nothing, 4);
});

test('deletions check the key exists and, when given, its value', () => {
  fails(['~missing'], 'hydra.errors.ConfigCompositionException', "Could not delete from config. 'missing' does not exist.");
  fails(['~flag=true'], 'hydra.errors.ConfigCompositionException', "Could not delete from config. The value of 'flag' is False and not True.");
  fails(['~nested={a: 2}'], 'hydra.errors.ConfigCompositionException', "Could not delete from config. The value of 'nested' is {'a': 1, 'items': [1, 2]} and not {'a': 2}.");
  assert.equal('seed' in compose(['~seed=1.0']).config, false);
});

test('group overrides: append, delete, package, and their errors', () => {
  const r = compose(['+extra=one', '+db@backup=postgresql']);
  assert.deepEqual(r.config.extra, { one: 1 });
  assert.deepEqual(r.config.backup, { driver: 'postgresql', port: 5432 });
  assert.equal(r.choices['db@backup'], 'postgresql');
  const d = compose(['~db']);
  assert.equal('db' in d.config, false);
  assert.equal('db' in d.choices, false);
  fails(['~db=postgresql'], 'hydra.errors.ConfigCompositionException', "Could not delete 'db=postgresql'. No match in the defaults list");
  fails(['++db=mysql'], 'hydra.errors.ConfigCompositionException', "force-add of config groups is not supported: '++db=mysql'");
  fails(
    ['db@other=postgresql'],
    'hydra.errors.ConfigCompositionException',
    "Could not override 'db@other'.\nDid you mean to override db?\nTo append to your default list use +db@other=postgresql",
  );
  fails(['extra=one'], 'hydra.errors.ConfigCompositionException', "Could not override 'extra'. No match in the defaults list.\nTo append to your default list use +extra=one");
  fails(['nested@pkg=1'], 'hydra.errors.ConfigCompositionException', "Override nested@pkg=1 looks like a config group override, but config group 'nested' does not exist.");
  fails(['db=1'], 'ValueError', 'Config group override must be a string or a list. Got int');
});

test('sweeps: ambiguous or refused in RUN mode; skipped by the master config in MULTIRUN', () => {
  fails(
    ['seed=1,2'],
    'hydra.errors.ConfigCompositionException',
    "Ambiguous value for argument 'seed=1,2'\n1. To use it as a list, use key=[value1,value2]\n2. To use it as string, quote the value: key='value1,value2'\n3. To sweep over it, add --multirun to your command line",
  );
  assert.throws(
    () => composeConfig({ configPath: dir, configName: 'config', overrides: ['seed=1,2'], runMode: 'RUN', fromShell: true }),
    { message: /2\. To use it as string, quote the value: key=\\'value1,value2\\'\n/ },
  );
  fails(['seed=range(1,3)'], 'hydra.errors.ConfigCompositionException', "Sweep parameters 'seed=range(1,3)' requires --multirun");
  fails(['hydra.job.name=a,b'], 'hydra.errors.ConfigCompositionException', "Sweeping over Hydra's configuration is not supported : 'hydra.job.name=a,b'", undefined, 'MULTIRUN');
  const m = compose(['seed=5,6', 'db=mysql,postgresql'], 'MULTIRUN');
  assert.equal(m.config.seed, 1);
  assert.deepEqual(m.config.db, { driver: 'mysql', port: 3306 });
  assert.deepEqual((m.config.hydra as any).overrides.task, ['seed=5,6', 'db=mysql,postgresql']);
});

test('the hydra node records the overrides, override_dirname and typed hydra values', () => {
  const r = compose(['seed=3', 'db=postgresql', 'hydra.job.chdir=yes', 'hydra.job.name=123', '+x=ab', 'hydra.job.config.override_dirname.exclude_keys=[seed]']);
  const h = r.config.hydra as any;
  assert.deepEqual(h.overrides.hydra, ['hydra.job.chdir=yes', 'hydra.job.name=123', 'hydra.job.config.override_dirname.exclude_keys=[seed]']);
  assert.deepEqual(h.overrides.task, ['seed=3', 'db=postgresql', '+x=ab']);
  assert.equal(h.job.override_dirname, '+x=ab,db=postgresql');
  assert.equal(h.job.chdir, true);
  assert.equal(h.job.name, '123');
  assert.deepEqual((compose(['+hydra.job.env_set.N=1']).config.hydra as any).job.env_set, { N: '1' });
  assert.equal(h.runtime.choices.db, 'postgresql');
  const sep = compose(['seed=3', 'name=y', 'hydra.job.config.override_dirname.kv_sep=:', 'hydra.job.config.override_dirname.item_sep=_']);
  assert.equal((sep.config.hydra as any).job.override_dirname, 'name:y_seed:3');
});

test('override parse errors carry Hydra\'s class', () => {
  assert.throws(() => compose(['seed=[1,']), (e: Error) => pythonErrorClass(e) === 'hydra.errors.OverrideParseException');
});
