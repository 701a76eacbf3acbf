import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { loadImageClassificationDataset } from '../../src/data/load.js';
import { preprocessedBatches } from '../../src/data/image-batches.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';
import { decodeImageRGB } from '../../src/image/decode.js';
import { UserError } from '../../src/errors.js';
import { writeHfParquetDataset } from '../helpers/datasets.js';

test('preprocessed batches equal per-image preprocessing, labels alongside, last batch short', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-batches-'));
  try {
    const images = Array.from({ length: 7 }, (_, i) =>
      encodePng({ width: 10 + i, height: 9, channels: 3, depth: 8, data: new Uint8Array((10 + i) * 9 * 3).map((_, p) => (p * 31 + i * 7) & 255) }),
    );
    const labels = [3, 1, 4, 1, 5, 9, 2];
    writeHfParquetDataset(dir, { split: 'test', images, labels, rowGroupSize: 3 });
    const ds = await loadImageClassificationDataset({ path: dir, split: 'test' });
    const proc = CLIPImageProcessor.fromConfig({ size: { shortest_edge: 8 }, crop_size: { height: 8, width: 8 }, resample: 3 });
    const seen: number[] = [];
    const counts: number[] = [];
    for await (const b of preprocessedBatches(ds, proc, { batchSize: 3, start: 1 })) {
      counts.push(b.count);
      assert.deepEqual(b.dims, [b.count, 3, 8, 8]);
      for (let k = 0; k < b.count; k++) {
        const one = new Float32Array(3 * 64);
        proc.preprocessInto(decodeImageRGB(images[b.start + k]!), one);
        assert.deepEqual(b.pixelValues.subarray(k * 192, (k + 1) * 192), one, `row ${b.start + k}`);
        seen.push(b.labels[k]!);
      }
    }
    assert.deepEqual(counts, [3, 3]);
    assert.deepEqual(seen, labels.slice(1));
    const noCrop = CLIPImageProcessor.fromConfig({ size: { shortest_edge: 8 }, do_center_crop: false });
    await assert.rejects(async () => {
      for await (const _ of preprocessedBatches(ds, noCrop, { batchSize: 4 })) void _;
    }, (e: unknown) => e instanceof UserError && /row 1: preprocesses to 8x9/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
