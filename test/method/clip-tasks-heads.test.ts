/**
 * The gradient methods' zero-shot heads (ClipTaskData.heads) use the task pool's on-disk head cache
 * under the same keys: a method's heads are found by the evaluation after it (no text tower run), and a
 * method finds the heads an evaluation wrote. Without a cache dir nothing is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipTaskData } from '../../src/method/gradient/clip-tasks.js';
import { runContext } from '../../src/run-context.js';
import { CLIPVisionModelTaskPool } from '../../src/taskpool/clip-vision/taskpool.js';
import { demoDataset, demoDir, demoPool } from './demo-pool.js';

const TASKS = ['mnist', 'fashion_mnist'];
const tiny = join(demoDir, 'models', 'tiny-clip');

function taskPool(cacheDir: string): CLIPVisionModelTaskPool {
  return new CLIPVisionModelTaskPool({
    test_datasets: { mnist: demoDataset('mnist'), fashion_mnist: demoDataset('fashion_mnist') },
    base_model: tiny,
    clip_model: tiny,
    processor: tiny,
    dataloader_kwargs: { batch_size: 250 },
  } as never, runContext({ cacheDir }));
}

async function methodHeads(cacheDir: string | null) {
  const ctx = await ClipTaskData.open(demoPool(), 'test', cacheDir);
  try {
    return await ctx.heads(TASKS);
  } finally {
    ctx.close();
  }
}

test('method heads go to the task pool\'s head cache and the evaluation reads them; the reverse too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-heads-'));
  try {
    const fresh = await methodHeads(null);
    assert.ok(!existsSync(join(dir, 'a')));

    const a = join(dir, 'a');
    const written = await methodHeads(a);
    assert.equal(readdirSync(join(a, 'clip_zeroshot_heads')).filter((f) => f.endsWith('.json')).length, 2);
    for (const t of TASKS) assert.deepEqual(written.get(t)!.weights, fresh.get(t)!.weights, t);
    const pool = taskPool(a);
    for (const t of TASKS) assert.deepEqual((await pool.zeroShotHead(t)).weights, fresh.get(t)!.weights, t);
    assert.equal(pool.stats.headsFromDiskCache, 2);
    assert.equal(pool.stats.headsComputed, 0);
    assert.equal(pool.stats.textSessionsBuilt, 0);

    // An evaluation first: the method then reads its two files and adds none.
    const b = join(dir, 'b');
    const pool2 = taskPool(b);
    for (const t of TASKS) await pool2.zeroShotHead(t);
    assert.equal(pool2.stats.headsComputed, 2);
    const folder = join(b, 'clip_zeroshot_heads');
    const files = readdirSync(folder).sort();
    // Marked copies (weights negated, key kept): what the method returns shows it read the files.
    for (const f of files) {
      const doc = JSON.parse(readFileSync(join(folder, f), 'utf8')) as { weights: number[] };
      doc.weights = doc.weights.map((w) => -w);
      writeFileSync(join(folder, f), JSON.stringify(doc));
    }
    const read = await methodHeads(b);
    assert.deepEqual(readdirSync(folder).sort(), files);
    for (const t of TASKS) assert.deepEqual(read.get(t)!.weights, fresh.get(t)!.weights.map((w) => -w), t);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
