/** The flags other than --cfg: --help, --hydra-help, --info, --shell-completion, argument errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from '../helpers/cli-main.js';
import { parseArgs } from '../../src/cli/args.js';
import { substituteTemplate } from '../../src/cli/help.js';

const cli = runMain;

test('argv: flags with aliases, optional --info value, overrides kept in order', () => {
  const a = parseArgs(['-cn', 'model_fusion', '-c', 'job', '--resolve', 'method=x', '+a.b=1', '~c', '++d=[1,2]', '-p', 'method']);
  assert.equal(a.configName, 'model_fusion');
  assert.equal(a.cfg, 'job');
  assert.equal(a.resolve, true);
  assert.equal(a.package, 'method');
  assert.deepEqual(a.overrides, ['method=x', '+a.b=1', '~c', '++d=[1,2]']);
  assert.equal(parseArgs(['--info']).info, 'all');
  assert.deepEqual(parseArgs(['--info', 'method=x']).overrides, ['method=x']);
  assert.equal(parseArgs(['-i', 'defaults-tree']).info, 'defaults-tree');
  assert.deepEqual(parseArgs(['a=-1']).overrides, ['a=-1']);
});

test('bad flags are one clear error', async () => {
  for (const [args, re] of [
    [['--bogus'], /unrecognized argument '--bogus'/],
    [['--cfg', 'jobs'], /argument --cfg\/-c: invalid choice: 'jobs'/],
    [['--info', 'nope'], /.+/],
    [['--cfg', 'job', '-m'], /Only one of --run, --multirun, --cfg, --info and --shell_completion can be specified/],
    [['--info', 'bogus'], /argument --info\/-i: invalid choice: 'bogus'/],
    [['-sc', 'foo'], /--shell-completion takes install=SHELL, uninstall=SHELL or query=SHELL with SHELL one of bash, zsh, fish, not 'foo'/],
    [['--resolve', 'dry_run=true'], /The --resolve flag can only be used in conjunction with --cfg or --help/],
  ] as const) {
    const r = await cli([...args]);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
});

test('--help renders fusion_bench\'s help template with the config groups', async () => {
  const r = await cli(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /== Configuration groups ==/);
  assert.match(r.stdout, /^method: .*\btask_arithmetic\b/m);
  assert.match(r.stdout, /^modelpool\/CLIPVisionModelPool: .*clip-vit-base-patch32_svhn_and_mnist/m);
  assert.doesNotMatch(r.stdout, /^hydra\/job_logging:/m);
  assert.doesNotMatch(r.stdout, /\$\{hydra\.help/);
  const h = await cli(['--hydra-help']);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /--cfg,-c : Show config instead of running/);
  assert.match(h.stdout, /^hydra\/job_logging: .*disabled/m);
});

test('--info shows the search path, the defaults list and tree, and the registered targets', async () => {
  const r = await cli(['--info', 'method=task_arithmetic']);
  assert.equal(r.status, 0, r.stderr);
  for (const title of ['Config search path', 'Defaults Tree', 'Defaults List', 'Config']) assert.match(r.stdout, new RegExp(`^${title}\\n\\*+$`, 'm'));
  assert.match(r.stdout, /\| method\/task_arithmetic\s+\| method\s+\| False\s+\| fabric_model_fusion\s+\|/);
  assert.match(r.stdout, /provider|main/);
  const t = await cli(['--info', 'targets']);
  assert.match(t.stdout, /fusion_bench\.method\.TaskArithmeticAlgorithm/);
  assert.match(t.stdout, /fusion_bench\.taskpool\.CLIPVisionModelTaskPool/);
  // each method's declared parameters, with type, default and meaning
  assert.match(t.stdout, /^fusion_bench\.method\.TaskArithmeticAlgorithm:\n\| Parameter +\| Type +\| Default +\| What/m);
  assert.match(t.stdout, /\| threshold +\| float \(0 ≤ x ≤ 100\) \| required \|/);
});

test('--shell-completion: the bash script, and completions for groups, options and keys', async () => {
  const s = await cli(['-sc', 'install=bash']);
  assert.match(s.stdout, /complete -F _fusion_bench_complete fusion-bench/);
  const q = await cli(['-sc', 'query=bash'], { COMP_LINE: 'fusion-bench method=task_ar' });
  assert.ok(q.stdout.split('\n').includes('method=task_arithmetic'), q.stdout);
  const k = await cli(['-sc', 'query=bash'], { COMP_LINE: 'fusion-bench method=task_arithmetic method.sc' });
  assert.ok(k.stdout.split('\n').includes('method.scaling_factor='), k.stdout);
  const f = await cli(['-sc', 'query=bash'], { COMP_LINE: 'fusion-bench --conf' });
  assert.deepEqual(f.stdout.trim().split('\n').sort(), ['--config-dir', '--config-name', '--config-path']);
});

test('string.Template substitution as Python does it', () => {
  assert.equal(substituteTemplate('a $X b ${X}c $$X $Y', { X: '1' }), 'a 1 b 1c $X $Y');
});

test('--help wins over --cfg, as in Hydra', async () => {
  const r = await cli(['--cfg', 'job', '--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /== Configuration groups ==/);
});

test('a run directory that cannot be created is one clear line naming the path, no stack', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-fs-'));
  try {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await cli(['--config-name', 'demo', `hydra.run.dir=${file}/run`]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`cannot create the run directory ${file}/run: ${file} is a file, not a folder`));
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
