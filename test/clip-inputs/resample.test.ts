import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterFromPilCode, resizeU8 } from '../../src/image/resample.js';

test('box filter halving averages pixel pairs with round-half-up', () => {
  const src = { width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 255, 10, 20]) };
  assert.deepEqual(Array.from(resizeU8(src, 2, 1, 'box')), [128, 15]);
});

test('a constant image stays constant through every filter, up and down', () => {
  const src = { width: 7, height: 5, channels: 3, data: new Uint8Array(7 * 5 * 3).fill(200) };
  for (const f of ['box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const) {
    for (const [w, h] of [
      [19, 11],
      [3, 2],
      [7, 9],
      [12, 5],
    ] as const) {
      const out = resizeU8(src, w, h, f);
      assert.equal(out.length, w * h * 3);
      assert.ok(out.every((v) => v === 200), `${f} ${w}x${h}`);
    }
  }
});

test('bicubic overshoot is clipped to 0..255, and the same size is a copy', () => {
  const row = Uint8Array.from([0, 0, 255, 255, 0, 0]);
  const up = resizeU8({ width: 6, height: 1, channels: 1, data: row }, 24, 1, 'bicubic');
  assert.ok(up.some((v) => v === 255) && up.some((v) => v === 0));
  const src = { width: 3, height: 2, channels: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
  const out = new Uint8Array(6);
  assert.equal(resizeU8(src, 3, 2, 'bicubic', out), out);
  assert.deepEqual(Array.from(out), [1, 2, 3, 4, 5, 6]);
});

test('Pillow resample codes', () => {
  assert.equal(filterFromPilCode(3), 'bicubic');
  assert.equal(filterFromPilCode(2), 'bilinear');
  assert.equal(filterFromPilCode(0), null);
});
