/**
 * RegMean on the demo through the real binary (its test slices serve as train sets): the saved tower is
 * the library's merge under the same keys, the report carries the examples used; without train sets the
 * run stops with one message naming the task and writes no model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegMeanAlgorithmForCLIP } from '../../src/method/regmean/clip-regmean.js';
import { runContext } from '../../src/run-context.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { binPath } from '../helpers/paths.js';
import { demoDataset, demoPool } from '../method/demo-pool.js';

const run = (dir: string, ...args: string[]) => spawnSync(process.execPath, [binPath, '--config-name', 'demo', 'method=regmean/clip_regmean', `path.log_dir=${join(dir, 'run')}`, `hydra.run.dir=${join(dir, 'run')}`, `merged_model_save_path=${join(dir, 'merged')}`, ...args], { cwd: dir, encoding: 'utf8', timeout: 300_000 });

test('regmean/clip_regmean on the demo: the saved tower is the library\'s merge, the report names the examples used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-regmean-'));
  try {
    const r = run(dir, 'method.num_regmean_examples=40', 'method.dataloader_kwargs.batch_size=16', 'method.reduce_non_diagonal_ratio=0.5', '+modelpool.train_datasets=${taskpool.test_datasets}');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'run', 'program_report.json'), 'utf8')) as Record<string, any>;
    assert.deepEqual(Object.keys(report).filter((k) => k !== 'run_info'), ['model_info', 'mnist', 'fashion_mnist', 'average', 'method_info']);
    assert.deepEqual(report.method_info.regmean_examples, { mnist: 48, fashion_mnist: 48 });
    assert.match(r.stdout, /\|\s+computing regmean weights\s+\|/);

    const alg = new RegMeanAlgorithmForCLIP({ num_regmean_examples: 40, dataloader_kwargs: { batch_size: 16 }, reduce_non_diagonal_ratio: 0.5 }, runContext({ status: null }));
    const want = await alg.run(demoPool({ train_datasets: { mnist: demoDataset('mnist'), fashion_mnist: demoDataset('fashion_mnist') } }));
    const saved = openCheckpoint(join(dir, 'merged'));
    try {
      assert.deepEqual([...saved.names()].sort(), [...want.stateDict.names()].sort());
      for (const name of want.stateDict.names()) {
        const a = saved.loadF32(name);
        const b = want.stateDict.loadF32(name);
        // saved in the pool's float16
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-3 * Math.max(1, Math.abs(b[i]!)), `${name}[${i}]: saved ${a[i]}, library ${b[i]}`);
      }
    } finally {
      saved.close?.();
      want.stateDict.close?.();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('regmean/clip_regmean without train sets: one message naming the task, exit 1, no model written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-regmean-'));
  try {
    const r = run(dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /RegMeanAlgorithmForCLIP: the model pool has no train_datasets entry for task 'mnist'/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
    assert.equal(existsSync(join(dir, 'merged')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
