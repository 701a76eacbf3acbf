/**
 * AdaMerging on the demo through the real binary: the README's command runs, the report carries the
 * merging weights and the final entropies next to the accuracies, and the profile has the training row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { binPath, repoRoot } from '../helpers/paths.js';

test('AdaMerging on the demo: merging weights and final losses in the report, a training row in the profile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-adamerging-'));
  try {
    const r = spawnSync(process.execPath, [binPath, '--config-name', 'demo', 'method=adamerging/clip', 'method.name=clip_task_wise_adamerging', 'method.max_steps=2', 'method.lr=0.01', 'method.clamp_weights=true', '+modelpool.test_datasets=${taskpool.test_datasets}', `path.log_dir=${join(dir, 'run')}`, `hydra.run.dir=${join(dir, 'run')}`], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'run', 'program_report.json'), 'utf8')) as Record<string, any>;
    assert.deepEqual(Object.keys(report).filter((k) => k !== 'run_info'), ['model_info', 'mnist', 'fashion_mnist', 'average', 'method_info']);
    const info = report.method_info;
    assert.deepEqual(info.merging_weights_shape, [2]);
    assert.equal(info.merging_weights.length, 2);
    assert.ok(info.merging_weights.every((w: number) => w >= 0 && w <= 1), 'clamped');
    assert.deepEqual(Object.keys(info.final_loss), ['mnist', 'fashion_mnist']);
    assert.ok(Object.values(info.final_loss).every((l) => typeof l === 'number' && Number.isFinite(l)));
    assert.equal(info.steps, 2);
    assert.match(r.stdout, /\|\s+training \(AdaMerging\)\s+\|/);
    assert.match(r.stderr, /step 2\/2: entropy mnist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config demo_adamerging (the README\'s command, fewer steps): layer-wise weights per task and tensor, accuracies of both tasks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-adamerging-cfg-'));
  try {
    const r = spawnSync(process.execPath, [binPath, '--config-name', 'demo_adamerging', 'method.max_steps=3', `path.log_dir=${join(dir, 'run')}`, `hydra.run.dir=${join(dir, 'run')}`], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'run', 'program_report.json'), 'utf8')) as Record<string, any>;
    const info = report.method_info;
    // One weight per task and per vision-tower tensor of the pool's models.
    const ckpt = openCheckpoint(join(repoRoot, 'demo', 'models', 'tiny-clip-mnist'));
    const tensors = ckpt.names().length;
    ckpt.close();
    assert.deepEqual(info.merging_weights_shape, [2, tensors]);
    assert.equal(info.merging_weights.length, 2);
    assert.ok(info.merging_weights.flat().every((w: number) => Number.isFinite(w)));
    assert.equal(info.steps, 3);
    for (const t of ['mnist', 'fashion_mnist']) assert.ok(report[t].accuracy >= 0 && report[t].accuracy <= 1, t);
    assert.match(r.stderr, /step 3\/3: entropy mnist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
