/**
 * What --cfg / --resolve / -p / --info defaults-tree print, and the messages for misspelled group options
 * and failing interpolations, compared with what Hydra 1.3 does.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from '../helpers/cli-main.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-display-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const conf = (name: string, text: string): string[] => {
  writeFileSync(join(dir, `${name}.yaml`), text);
  return ['--config-dir', dir, '--config-name', name];
};

test('--cfg job --resolve prints ??? for a mandatory value and for every interpolation of it, as Hydra (OmegaConf.resolve)', async () => {
  const r = await runMain([...conf('missing', 'a: ???\nb: ${a}\nc: x_${a}\nd:\n  e: ${a}\nf: 1\n'), '--cfg', 'job', '--resolve']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'a: ???\nb: ???\nc: ???\nd:\n  e: ???\nf: 1\n');
});

test('an interpolation that cannot resolve names the key that holds it', async () => {
  const r = await runMain([...conf('broken', 'c:\n  ok: 1\n  d: ${nope}\n'), '--cfg', 'job', '--resolve']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^Interpolation key 'nope' not found\n {4}full_key: c\.d\n {4}object_type=dict\n/);
});

test('-p with --resolve resolves the package against the whole config; a selected leaf prints resolved', async () => {
  const args = conf('pkg', 'x: 5\np:\n  y: ${x}\n  z: ${..x}\n  w: ${.y}\n');
  const r = await runMain([...args, '--cfg', 'job', '-p', 'p', '--resolve']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "# @package p\n'y': 5\nz: 5\nw: 5\n");
  const raw = await runMain([...args, '--cfg', 'job', '-p', 'p']);
  assert.equal(raw.stdout, "# @package p\n'y': ${x}\nz: ${..x}\nw: ${.y}\n", 'without --resolve the package stays unresolved');
  const leaf = await runMain([...args, '--cfg', 'job', '-p', 'p.z']);
  assert.equal(leaf.stdout, '5\n');
  const path = await runMain(['--cfg', 'job', '-p', 'path', '--resolve'], { FUSION_BENCH_PROJECT_ROOT: '/project' });
  assert.match(path.stdout, /^# @package path\nroot_dir: \/project\noutput_dir: \/project\/outputs\n/);
});

test('--info defaults-tree prints the tree: configs with their children, groups as group: option', async () => {
  const r = await runMain(['--info', 'defaults-tree', 'method=task_arithmetic']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 5), ['Defaults Tree', '*************', '<root>:', '  hydra/config:', '    hydra/output: default']);
  for (const l of ['  fabric_model_fusion:', '    method: task_arithmetic', '    modelpool: CLIPVisionModelPool/clip-vit-base-patch32_TA8:', '    _self_']) assert.ok(lines.includes(l), `${l}\n${r.stdout}`);
});

test('a misspelled method gets "did you mean"; a misspelled pool lists the pools (all in a sub-folder)', async () => {
  const m = await runMain(['--cfg', 'job', 'method=task_arithmatic']);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /^In 'fabric_model_fusion': Could not find 'method\/task_arithmatic' \(did you mean method=task_arithmetic\?\)\n\nAvailable options in 'method':\n\tdummy\n/);
  const p = await runMain(['--cfg', 'job', 'modelpool=CLIPVisionModelPool/clip-vit-base-patch32_TA9']);
  assert.equal(p.status, 1);
  assert.match(p.stderr, /Could not find 'modelpool\/CLIPVisionModelPool\/clip-vit-base-patch32_TA9' \(did you mean modelpool=CLIPVisionModelPool\/clip-vit-base-patch32_TA8\?\)/);
  assert.match(p.stderr, /Available options in 'modelpool':\n(\t.*\n)*\tCLIPVisionModelPool\/clip-vit-base-patch32_TA8\n/);
  const far = await runMain(['--cfg', 'job', 'method=zzzzzzzz']);
  assert.match(far.stderr, /Could not find 'method\/zzzzzzzz'\n/, 'no suggestion when nothing is close');
});
