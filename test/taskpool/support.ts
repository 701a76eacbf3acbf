/**
 * Shared pieces of the task pool tests: the tiny CLIP fixtures as models, golden arrays, tolerance checks
 * and an independent float64 reference for accuracy and loss.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { readNpy } from '../helpers/npy.js';
import { sharedPath } from '../helpers/paths.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import type { Model } from '../../src/modelpool/model.js';

export const clipFixtures = (): string => sharedPath('fixtures', 'clip');
export const fixtureModel = (name: string): string => join(clipFixtures(), 'models', name);
export const ZS = 'zeroshot-mnist-tiny-clip-bpe';

/** The vision towers of the zero-shot golden, by its names. */
export const VISION_TOWERS: Record<string, () => string> = {
  pretrained: () => fixtureModel('tiny-clip'),
  'ft-a': () => fixtureModel('tiny-clip-ft-a'),
  'ft-b': () => fixtureModel('tiny-clip-ft-b'),
  merged: () => join(clipFixtures(), 'golden', 'tiny-clip-merged-ta0.5'),
};

export function golden(dir: string, name: string): Float32Array {
  return readNpy(join(clipFixtures(), 'golden', dir, `${name}.npy`)).data as Float32Array;
}

/** A model directory opened the way a model pool hands models over. */
export function openModel(dir: string): Model {
  return { stateDict: openCheckpoint(dir), config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>, source: dir };
}

/** |a − e| ≤ rtol·max|e| elementwise (relative to the array's scale), reporting the worst element. */
export function assertRelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= rtol * scale, `${what}: element ${at} is ${actual[at]}, expected ${expected[at]} (max |diff| ${worst}, allowed ${rtol * scale})`);
}

/**
 * fusion_bench's metrics computed independently: per batch, the mean of −log softmax(logits)[label]
 * in float64; the loss is the mean of the batch means, accuracy is correct / total (first argmax).
 */
export function referenceMetrics(logits: ArrayLike<number>, labels: readonly number[], numClasses: number, batchSize: number): { accuracy: number; loss: number } {
  const means: number[] = [];
  let correct = 0;
  for (let b = 0; b < labels.length; b += batchSize) {
    const ces: number[] = [];
    for (let i = b; i < Math.min(b + batchSize, labels.length); i++) {
      const row = Array.from({ length: numClasses }, (_, j) => Number(logits[i * numClasses + j]));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      ces.push(lse - row[labels[i]!]!);
      if (row.indexOf(m) === labels[i]) correct++;
    }
    means.push(ces.reduce((s, v) => s + v, 0) / ces.length);
  }
  return { accuracy: correct / labels.length, loss: means.reduce((s, v) => s + v, 0) / means.length };
}

/** The golden input images (uint8 arrays) as PNG files: grey for 2-D arrays, RGB for (H, W, 3). */
export function goldenInputPngs(): Uint8Array[] {
  return ['mnist_like_28x28_L', 'svhn_like_32x32_RGB', 'random_30x40_RGB'].map((name) => {
    const a = readNpy(join(clipFixtures(), 'golden', 'inputs', `${name}.npy`));
    const [height, width, channels] = [a.shape[0]!, a.shape[1]!, a.shape[2] ?? 1];
    return encodePng({ width, height, channels, depth: 8, data: a.data as Uint8Array });
  });
}
