/**
 * Without WebAssembly (FUSION_BENCH_NO_WASM=1, as on a runtime lacking SIMD) merges take the JavaScript
 * loops and save the same bytes as with the WebAssembly kernels: checked in child processes, since the
 * choice is made once per process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { randomArrays, toStateDict } from './helpers.js';

const src = (m: string) => new URL(`../../src/${m}`, import.meta.url).href;

/** Merges the pool in a child process with `env` and returns the sha256 of each saved model. */
function mergeInChild(dir: string, env: Record<string, string>): string[] {
  const code = `
    import { TaskArithmeticAlgorithm } from ${JSON.stringify(src('method/task-arithmetic.js'))};
    import { TiesMergingAlgorithm } from ${JSON.stringify(src('method/ties-merging.js'))};
    import { BaseModelPool } from ${JSON.stringify(src('modelpool/base-pool.js'))};
    const dir = ${JSON.stringify(dir)};
    const models = Object.fromEntries(['_pretrained_', 'a', 'b', 'c'].map((n) => [n, dir + '/' + n]));
    const methods = [new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }),
      ...['sum', 'mean', 'max'].map((f) => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, merge_func: f }))];
    for (const [i, m] of methods.entries()) {
      const pool = new BaseModelPool({ models });
      const merged = await m.run(pool);
      await pool.saveModel(merged, dir + '/out-' + i + '.safetensors');
      merged.stateDict.close();
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return [0, 1, 2, 3].map((i) => createHash('sha256').update(readFileSync(join(dir, `out-${i}.safetensors`))).digest('hex'));
}

test('merges save the same bytes with and without the WebAssembly kernels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-nowasm-'));
  try {
    const layout = { 'big.weight': [9, 8001], 'small.bias': [7] };
    const theta0 = randomArrays(70, { layout });
    [theta0, ...[71, 72, 73].map((s) => randomArrays(s, { layout, around: theta0, scale: 0.05 }))].forEach((a, k) => {
      const d = join(dir, ['_pretrained_', 'a', 'b', 'c'][k]!);
      mkdirSync(d);
      writeSafetensorsSync(join(d, 'model.safetensors'), toStateDict(a, layout), k === 3 ? { dtypes: () => 'F16' } : {});
    });
    const withWasm = mergeInChild(dir, {});
    const without = mergeInChild(dir, { FUSION_BENCH_NO_WASM: '1' });
    assert.deepEqual(without, withWasm);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
