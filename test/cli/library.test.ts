/** The library surface the README shows: classes used directly and instantiate() over the registry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIPVisionModelPool, TaskArithmeticAlgorithm, instantiate, openCheckpoint, UserError } from '../../src/index.js';
import { writeRandomClipVisionModel } from '../../bench/lib/random-model.js';

const small = { layers: 1, hidden: 8, mlp: 16, heads: 2, patch: 8, image: 16, projectionDim: 4 };

test('README library example: pool → TaskArithmeticAlgorithm → saveModel, and run() on a dict of models', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-lib-'));
  try {
    const paths: Record<string, string> = {};
    for (const [name, seed] of [['_pretrained_', 1], ['a', 2], ['b', 3]] as const) {
      paths[name] = join(dir, name);
      mkdirSync(paths[name]);
      writeRandomClipVisionModel(paths[name], { ...small, seed, ...(seed > 1 ? { base: { seed: 1, noise: 0.1 } } : {}) });
    }
    const pool = new CLIPVisionModelPool({ models: paths });
    const viaPool = await new TaskArithmeticAlgorithm({ scaling_factor: 0.5 }).run(pool);
    await pool.saveModel(viaPool, join(dir, 'out'));
    const models = { _pretrained_: await pool.loadModel('_pretrained_'), a: await pool.loadModel('a'), b: await pool.loadModel('b') };
    const viaDict = await new TaskArithmeticAlgorithm({ scaling_factor: 0.5 }).run(models);
    const saved = openCheckpoint(join(dir, 'out'));
    for (const n of saved.names()) assert.deepEqual(saved.loadF32(n), viaDict.stateDict.loadF32(n), n);

    const algo = await instantiate({ _target_: 'fusion_bench.method.TaskArithmeticAlgorithm', scaling_factor: 0.5 });
    assert.ok(algo instanceof TaskArithmeticAlgorithm);
    await assert.rejects(instantiate({ _target_: 'os.system', _args_: ['echo pwned'] }), UserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
