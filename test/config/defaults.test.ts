import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultsList, renderDefaultsTree } from '../../src/config/defaults/build.js';
import { pythonErrorClass } from '../../src/config/hydra-errors.js';
import { readHeader } from '../../src/config/repository.js';
import { brief, repoFor, writeTree } from './defaults-tree.js';

const semanticsLike = {
  'config.yaml': 'defaults:\n  - db: mysql\n  - server: apache\n  - optional extra: nothing_here\n  - _self_\napp: 1\n',
  'db/mysql.yaml': 'driver: mysql\n',
  'db/postgresql.yaml': 'driver: postgresql\n',
  'db/base.yaml': 'driver: ???\n',
  'db/ext.yaml': 'defaults:\n  - base\n  - _self_\ndriver: ext\n',
  'server/apache.yaml': 'defaults:\n  - site: fb\n  - _self_\nname: apache\n',
  'server/nginx.yaml': 'name: nginx\n',
  'server/site/fb.yaml': 'domain: fb\n',
  'server/site/google.yaml': 'domain: google\n',
};

test('group defaults nest under their parent group; optional missing options are dropped; _self_ keeps its place', () => {
  const repo = repoFor(writeTree(semanticsLike));
  const r = createDefaultsList(repo, 'config', []);
  assert.deepEqual(brief(r.defaults), [
    'db/mysql@db <- config',
    'server/site/fb@server.site <- server/apache',
    'server/apache@server self <- config',
    'config@ self primary <- <root>',
  ]);
  assert.equal(r.choices.get('server/site'), 'fb');
  assert.equal(r.choices.get('extra'), 'nothing_here');
  assert.equal(r.choices.get('hydra/job_logging'), 'default');
  assert.equal(r.choices.get('hydra/callbacks'), null);
  assert.deepEqual(r.warnings, []);
});

test("Hydra's own defaults come first, under hydra/config, with hydra/config's content after them", () => {
  const repo = repoFor(writeTree({ 'app.yaml': 'a: 1\n' }));
  const r = createDefaultsList(repo, 'app', []);
  assert.deepEqual(
    r.defaults.map((d) => [d.configPath, d.package, d.parent]),
    [
      ['hydra/output/default', 'hydra', 'hydra/config'],
      ['hydra/launcher/basic', 'hydra.launcher', 'hydra/config'],
      ['hydra/sweeper/basic', 'hydra.sweeper', 'hydra/config'],
      ['hydra/help/default', 'hydra.help', 'hydra/config'],
      ['hydra/hydra_help/default', 'hydra.hydra_help', 'hydra/config'],
      ['hydra/hydra_logging/default', 'hydra.hydra_logging', 'hydra/config'],
      ['hydra/job_logging/default', 'hydra.job_logging', 'hydra/config'],
      ['hydra/env/default', 'hydra.env', 'hydra/config'],
      ['hydra/config', 'hydra', '<root>'],
      ['app', '', '<root>'],
    ],
  );
  const noHydra = createDefaultsList(repo, 'app', [], { withHydra: false });
  assert.deepEqual(brief(noHydra.defaults, true), ['app@ primary <- null']);
});

test('a primary config without _self_ gets it last, with the migration warning only when it has content', () => {
  const repo = repoFor(
    writeTree({
      'no_self.yaml': 'defaults:\n  - db: mysql\nport: 1\n',
      'no_content.yaml': 'defaults:\n  - db: mysql\n',
      'only_missing.yaml': 'defaults:\n  - db: mysql\nx: ???\n',
      'self_first.yaml': 'defaults:\n  - _self_\n  - db: mysql\nport: 1\n',
      'db/mysql.yaml': 'driver: mysql\n',
    }),
  );
  const r = createDefaultsList(repo, 'no_self', []);
  assert.deepEqual(brief(r.defaults), ['db/mysql@db <- no_self', 'no_self@ self primary <- <root>']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /^In 'no_self': Defaults list is missing `_self_`/);
  assert.deepEqual(createDefaultsList(repo, 'no_content', []).warnings, []);
  assert.deepEqual(createDefaultsList(repo, 'only_missing', []).warnings, []);
  const first = createDefaultsList(repo, 'self_first', []);
  assert.deepEqual(brief(first.defaults), ['self_first@ self primary <- <root>', 'db/mysql@db <- self_first']);
});

test('packages: @pkg, @_here_, @_global_, package headers, absolute groups and config paths', () => {
  const repo = repoFor(
    writeTree({
      'config.yaml':
        'defaults:\n  - db@backup: postgresql\n  - pkg: header_foo\n  - pkg@_global_: plain\n  - server/site@site: google\n  - nested: here\n  - _self_\n',
      'db/postgresql.yaml': 'driver: pg\n',
      'pkg/header_foo.yaml': '# @package foo.bar\nx: 1\n',
      'pkg/plain.yaml': 'y: 2\n',
      'pkg/not_header.yaml': '# a comment first\n# @package foo\ny: 2\n',
      'server/site/google.yaml': 'domain: google\n',
      'nested/here.yaml': 'defaults:\n  - inner@_here_: a\n  - /db@abs_db: postgresql\n  - ../pkg/plain@up\n  - _self_\n',
      'nested/inner/a.yaml': 'a: 1\n',
      'global.yaml': '# @package _global_\ndefaults:\n  - pkg: plain\n',
    }),
  );
  const r = createDefaultsList(repo, 'config', []);
  assert.deepEqual(brief(r.defaults), [
    'db/postgresql@backup <- config',
    'pkg/header_foo@foo.bar <- config',
    'pkg/plain@ <- config',
    'server/site/google@site <- config',
    'nested/inner/a@nested <- nested/here',
    'db/postgresql@nested.abs_db <- nested/here',
    'nested/../pkg/plain@nested.up <- nested/here',
    'nested/here@nested self <- config',
    'config@ self primary <- <root>',
  ]);
  assert.equal(r.choices.get('db@backup'), 'postgresql');
  assert.equal(r.choices.get('pkg@_global_'), 'plain');
  assert.equal(r.choices.get('pkg'), 'header_foo');
  assert.equal(r.choices.get('server/site@site'), 'google');
  assert.equal(r.choices.get('db@nested.abs_db'), 'postgresql');
  // A package header must lead the file: a plain comment before it ends the header.
  assert.deepEqual(readHeader('# a comment first\n# @package foo\n'), { package: null });
  assert.deepEqual(readHeader('\n# @package foo\n# @other x\nbody: 1\n'), { package: 'foo', other: 'x' });
  assert.throws(() => readHeader('# @package\n'), /Expected header format: KEY VALUE/);
  const g = createDefaultsList(repo, 'global', []);
  assert.deepEqual(brief(g.defaults), ['pkg/plain@pkg <- global', 'global@ self primary <- <root>']);
});

test('a primary config in a folder is placed at that folder; its defaults are relative to it', () => {
  const repo = repoFor(writeTree({ 'exp/run.yaml': 'defaults:\n  - opt: a\n  - _self_\nz: 1\n', 'exp/opt/a.yaml': 'a: 1\n' }));
  const r = createDefaultsList(repo, 'exp/run', []);
  assert.deepEqual(brief(r.defaults), ['exp/opt/a@exp.opt <- exp/run', 'exp/run@exp self primary <- <root>']);
  assert.equal(r.choices.get('exp/opt'), 'a');
});

test('select-multi lists load each option at the same package, in order', () => {
  const repo = repoFor(
    writeTree({
      'c.yaml': 'defaults:\n  - /ds/test@tests: [b, a]\n  - _self_\n',
      'ds/test/a.yaml': 'a: 1\n',
      'ds/test/b.yaml': 'b: 1\n',
      'o.yaml': 'defaults:\n  - ds/test: [a]\n  - override ds/test: [b, a]\n',
    }),
  );
  assert.deepEqual(brief(createDefaultsList(repo, 'c', []).defaults), ['ds/test/b@tests <- c', 'ds/test/a@tests <- c', 'c@ self primary <- <root>']);
  assert.deepEqual(brief(createDefaultsList(repo, 'o', []).defaults), ['ds/test/b@ds.test <- o', 'ds/test/a@ds.test <- o', 'o@ self primary <- <root>']);
});

test('null choices load nothing but are recorded; ??? must be chosen unless sweeping', () => {
  const repo = repoFor(writeTree({ 'n.yaml': 'defaults:\n  - db: null\n  - _self_\nx: 1\n', 'm.yaml': 'defaults:\n  - db: ???\n', 'db/a.yaml': '', 'db/b.yaml': '' }));
  const n = createDefaultsList(repo, 'n', []);
  assert.deepEqual(brief(n.defaults), ['n@ self primary <- <root>']);
  assert.equal(n.choices.get('db'), null);
  assert.ok(n.choices.has('db'));
  assert.throws(
    () => createDefaultsList(repo, 'm', []),
    (e: Error) => pythonErrorClass(e) === 'hydra.errors.ConfigCompositionException' && e.message === "You must specify 'db', e.g, db=<OPTION>\nAvailable options:\n\ta\n\tb",
  );
  const skipped = createDefaultsList(repo, 'm', [], { skipMissing: true });
  assert.deepEqual(brief(skipped.defaults), ['m@ self primary <- <root>']);
  assert.equal(skipped.choices.get('db'), '???');
});

test('interpolated defaults see the choices of their level, even later ones', () => {
  const repo = repoFor(
    writeTree({
      'i.yaml': 'defaults:\n  - combo: ${db}_${server}\n  - db: mysql\n  - server: apache\n  - _self_\n',
      'bad.yaml': 'defaults:\n  - db: mysql\n  - combo: ${nope}\n',
      'db/mysql.yaml': '',
      'server/apache.yaml': '',
      'combo/mysql_apache.yaml': 'c: 1\n',
    }),
  );
  const r = createDefaultsList(repo, 'i', []);
  assert.deepEqual(brief(r.defaults), ['combo/mysql_apache@combo <- i', 'db/mysql@db <- i', 'server/apache@server <- i', 'i@ self primary <- <root>']);
  assert.equal(r.choices.get('combo'), 'mysql_apache');
  assert.throws(() => createDefaultsList(repo, 'bad', []), { message: /^Error resolving interpolation '\$\{nope\}', possible interpolation keys: db$/ });
});

test('override entries replace a choice made elsewhere, and must come last in their list', () => {
  const repo = repoFor(
    writeTree({
      'same.yaml': 'defaults:\n  - db: mysql\n  - override db: postgresql\n  - _self_\n',
      'wrong.yaml': 'defaults:\n  - override db: postgresql\n  - db: mysql\n',
      'dup.yaml': 'defaults:\n  - db: mysql\n  - db: postgresql\n',
      'outer.yaml': 'defaults:\n  - server: apache\n  - override server/site: google\n  - _self_\n',
      'nomatch.yaml': 'defaults:\n  - exp: bad\n  - _self_\n',
      'exp/bad.yaml': 'defaults:\n  - override db: postgresql\n',
      'db/mysql.yaml': '',
      'db/postgresql.yaml': '',
      'server/apache.yaml': 'defaults:\n  - site: fb\n',
      'server/site/fb.yaml': '',
      'server/site/google.yaml': '',
    }),
  );
  assert.deepEqual(brief(createDefaultsList(repo, 'same', []).defaults), ['db/postgresql@db <- same', 'same@ self primary <- <root>']);
  const outer = createDefaultsList(repo, 'outer', []);
  assert.deepEqual(brief(outer.defaults), ['server/site/google@server.site <- server/apache', 'server/apache@server self <- outer', 'outer@ self primary <- <root>']);
  assert.throws(() => createDefaultsList(repo, 'wrong', []), {
    message: "In wrong: Override 'db : postgresql' is defined before 'db: mysql'.\nOverrides must be at the end of the defaults list",
  });
  assert.throws(() => createDefaultsList(repo, 'dup', []), { message: "Multiple values for db. To override a value use 'override db: postgresql'" });
  assert.throws(() => createDefaultsList(repo, 'nomatch', []), {
    message: "In 'exp/bad': Could not override 'exp/db'. No match in the defaults list.",
  });
});

test('missing configs: unknown option lists the options and the search path; unknown primary; config defaults', () => {
  const dir = writeTree({
    'c.yaml': 'defaults:\n  - db: nope\n',
    'p.yaml': 'defaults:\n  - db/missing\n',
    'db/mysql.yaml': '',
    'db/postgresql.yaml': '',
    'db/ignored.yml': '',
  });
  const repo = repoFor(dir);
  const search = `Config search path:\n\tprovider=hydra, path=pkg://hydra.conf\n\tprovider=main, path=file://${dir}\n\tprovider=schema, path=structured://`;
  assert.throws(
    () => createDefaultsList(repo, 'c', []),
    (e: Error & { options?: string[] }) =>
      pythonErrorClass(e) === 'hydra.errors.MissingConfigException' &&
      e.message === `In 'c': Could not find 'db/nope'\n\nAvailable options in 'db':\n\tmysql\n\tpostgresql\n${search}` &&
      JSON.stringify(e.options) === '["mysql","postgresql"]',
  );
  assert.throws(() => createDefaultsList(repo, 'p', []), { message: `In 'p': Could not load 'db/missing'.\n\n${search}` });
  assert.throws(() => createDefaultsList(repo, 'nothing', []), {
    message: `Cannot find primary config 'nothing'. Check that it's in your config search path.\n\n${search}`,
  });
});

test('malformed defaults lists are reported with the file', () => {
  const repo = repoFor(
    writeTree({
      'map.yaml': 'defaults:\n  db: mysql\n',
      'two.yaml': 'defaults:\n  - {a: 1, b: 2}\n',
      'num.yaml': 'defaults:\n  - db: 1\n',
      'selfpkg.yaml': 'defaults:\n  - _self_@x\n',
      'twoself.yaml': 'defaults:\n  - _self_\n  - _self_\n',
    }),
  );
  assert.throws(() => createDefaultsList(repo, 'map', []), { message: "Invalid defaults list in 'map', defaults must be a list (got mapping)" });
  assert.throws(() => createDefaultsList(repo, 'two', []), { message: "In two: Too many keys in default item {'a': 1, 'b': 2}" });
  assert.throws(() => createDefaultsList(repo, 'num', []), { message: 'Unsupported item value in defaults : int. Supported: string or list' });
  assert.throws(() => createDefaultsList(repo, 'selfpkg', []), { message: '_self_@PACKAGE is not supported' });
  assert.throws(() => createDefaultsList(repo, 'twoself', []), { message: 'Duplicate _self_ defined in twoself' });
});

test('groups and options are the union over the search path; the first source with a config wins', () => {
  const main = writeTree({ 'c.yaml': 'defaults:\n  - db: a\n', 'db/a.yaml': 'from: main\n' });
  const extra = writeTree({ 'db/a.yaml': 'from: extra\n', 'db/b.yaml': '', 'other/x.yaml': '' });
  const repo = repoFor(main, [extra]);
  assert.deepEqual(repo.groupOptions('db'), ['a', 'b']);
  assert.deepEqual(repo.groupOptions('', 'group'), ['db', 'hydra', 'other']);
  assert.deepEqual(repo.groupOptions('hydra/job_logging'), ['default', 'disabled', 'none', 'stdout']);
  assert.deepEqual(repo.loadConfig('db/a')?.config, { from: 'main' });
  assert.equal(repo.loadConfig('db/b')?.provider, 'command-line');
  assert.equal(repo.groupExists('other'), true);
  assert.equal(repo.configExists('db/c'), false);
});

test('interpolated defaults are resolved by OmegaConf rules: resolvers and the defaults list itself', () => {
  const repo = repoFor(
    writeTree({
      'e.yaml': 'defaults:\n  - db: ${oc.env:FB_TEST_DB_CHOICE,mysql}\n  - _self_\n',
      'l.yaml': 'defaults:\n  - db: mysql\n  - other: ${defaults[0].db}\n  - _self_\n',
      'db/mysql.yaml': '',
      'db/pg.yaml': '',
      'other/mysql.yaml': 'o: 1\n',
    }),
  );
  assert.equal(createDefaultsList(repo, 'e', [], { env: {} }).choices.get('db'), 'mysql');
  assert.equal(createDefaultsList(repo, 'e', [], { env: { FB_TEST_DB_CHOICE: 'pg' } }).choices.get('db'), 'pg');
  assert.equal(createDefaultsList(repo, 'l', []).choices.get('other'), 'mysql');
});

test('the defaults tree renders as --info defaults-tree shows it', () => {
  const repo = repoFor(writeTree(semanticsLike));
  const lines = renderDefaultsTree(createDefaultsList(repo, 'config', []).tree);
  assert.deepEqual(lines.slice(0, 3), ['<root>:', '  hydra/config:', '    hydra/output: default']);
  assert.deepEqual(lines.slice(-9), [
    '    hydra/env: default',
    '    _self_',
    '  config:',
    '    db: mysql',
    '    server: apache:',
    '      server/site: fb',
    '      _self_',
    '    extra: nothing_here',
    '    _self_',
  ]);
});
