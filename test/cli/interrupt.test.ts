/**
 * Ctrl-C while the merged model is being written: the run exits with 130 and leaves neither a
 * half-written model file nor a report, only what was complete before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from '../helpers/paths.js';
import { writeRandomClipVisionModel } from '../../bench/lib/random-model.js';

const size = { layers: 4, hidden: 512, mlp: 2048, heads: 8, patch: 16, image: 64, projectionDim: 64 };

test('SIGINT during the save removes the unfinished files and exits 130', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-int-'));
  try {
    for (const [m, seed] of [['base', 1], ['ft-a', 2], ['ft-b', 3]] as const) {
      mkdirSync(join(dir, 'models', m), { recursive: true });
      writeRandomClipVisionModel(join(dir, 'models', m), { ...size, seed, ...(seed > 1 ? { base: { seed: 1, noise: 0.05 } } : {}) });
    }
    mkdirSync(join(dir, 'conf', 'modelpool'), { recursive: true });
    writeFileSync(
      join(dir, 'conf', 'modelpool', 'local_pool.yaml'),
      `_target_: fusion_bench.modelpool.CLIPVisionModelPool\nmodels:\n  _pretrained_: ${join(dir, 'models', 'base')}\n  a: ${join(dir, 'models', 'ft-a')}\n  b: ${join(dir, 'models', 'ft-b')}\n`,
    );
    const out = join(dir, 'merged');
    const child = spawn(process.execPath, [binPath, '--config-dir', join(dir, 'conf'), 'method=task_arithmetic', 'modelpool=local_pool', 'taskpool=dummy', `merged_model_save_path=${out}`, 'print_config=false'], {
      cwd: dir,
      env: { ...process.env, FUSION_BENCH_PROJECT_ROOT: dir },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

    // interrupt as soon as the model's temporary file appears, i.e. mid-write
    let sawTemp = false;
    for (let i = 0; i < 6000 && child.exitCode === null; i++) {
      if (existsSync(out) && readdirSync(out).some((f) => f.includes('.tmp'))) {
        sawTemp = true;
        child.kill('SIGINT');
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const code = await exited;
    assert.ok(sawTemp, `the run ended before its save could be interrupted (exit ${code}):\n${stderr}`);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /Interrupted \(SIGINT\): removed \d+ unfinished file/);
    const left = existsSync(out) ? readdirSync(out) : [];
    assert.deepEqual(left.filter((f) => f.includes('.tmp') || f === 'model.safetensors' || f === 'config.json'), []);
    const runs = join(dir, 'outputs', 'fabric_model_fusion');
    for (const r of readdirSync(runs)) assert.ok(!existsSync(join(runs, r, 'program_report.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
