import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { encode as encodePng } from 'fast-png';
import { decodeImage, decodeImageRGB, toRGB } from '../../src/image/decode.js';
import { UserError } from '../../src/errors.js';
import { needsShared, sharedPath } from '../helpers/paths.js';

test('8-bit grey PNG decodes as L and converts to RGB by copying', () => {
  const data = Uint8Array.from([0, 50, 100, 150, 200, 255]);
  const img = decodeImage(encodePng({ width: 3, height: 2, channels: 1, depth: 8, data }));
  assert.equal(img.mode, 'L');
  assert.deepEqual([img.width, img.height, img.channels], [3, 2, 1]);
  assert.deepEqual(Array.from(img.data), Array.from(data));
  const rgb = toRGB(img);
  assert.equal(rgb.mode, 'RGB');
  assert.deepEqual(Array.from(rgb.data.subarray(0, 6)), [0, 0, 0, 50, 50, 50]);
});

test('RGBA drops alpha without compositing; LA keeps the grey value', () => {
  const rgba = decodeImageRGB(encodePng({ width: 2, height: 1, channels: 4, depth: 8, data: Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 128]) }));
  assert.deepEqual(Array.from(rgba.data), [10, 20, 30, 40, 50, 60]);
  const la = decodeImage(encodePng({ width: 2, height: 1, channels: 2, depth: 8, data: Uint8Array.from([7, 0, 9, 255]) }));
  assert.equal(la.mode, 'LA');
  assert.deepEqual(Array.from(toRGB(la).data), [7, 7, 7, 9, 9, 9]);
});

test('16-bit grey follows PIL (mode I;16, clamped at 255); 16-bit RGB keeps the high byte', () => {
  const grey = decodeImage(encodePng({ width: 3, height: 1, channels: 1, depth: 16, data: Uint16Array.from([5, 255, 40000]) }));
  assert.equal(grey.mode, 'I;16');
  assert.deepEqual(Array.from(toRGB(grey).data), [5, 5, 5, 255, 255, 255, 255, 255, 255]);
  const rgb = decodeImageRGB(encodePng({ width: 1, height: 1, channels: 3, depth: 16, data: Uint16Array.from([0x1234, 0xff00, 0x00ff]) }));
  assert.deepEqual(Array.from(rgb.data), [0x12, 0xff, 0x00]);
});

test('palette PNGs are looked up, at 8 and 2 bits per index', () => {
  const palette = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  const p8 = decodeImage(encodePng({ width: 3, height: 1, channels: 1, depth: 8, data: Uint8Array.from([2, 0, 1]), palette }));
  assert.equal(p8.mode, 'P');
  assert.deepEqual(Array.from(toRGB(p8).data), [0, 0, 255, 255, 0, 0, 0, 255, 0]);
  // 5 pixels of 2 bits: 2,1,0,2 | 1 (row padded to 2 bytes).
  const packed = Uint8Array.from([0b10010010, 0b01000000]);
  const p2 = decodeImageRGB(encodePng({ width: 5, height: 1, channels: 1, depth: 2, data: packed, palette }));
  assert.deepEqual(Array.from(p2.data), [0, 0, 255, 0, 255, 0, 255, 0, 0, 0, 0, 255, 0, 255, 0]);
});

test('1- and 4-bit grey are scaled to 0..255 as PIL unpacks them', () => {
  const g1 = decodeImage(encodePng({ width: 3, height: 1, channels: 1, depth: 1, data: Uint8Array.from([0b10100000]) }));
  assert.equal(g1.mode, '1');
  assert.deepEqual(Array.from(g1.data), [255, 0, 255]);
  const g4 = decodeImage(encodePng({ width: 2, height: 2, channels: 1, depth: 4, data: Uint8Array.from([0x0f, 0x80]) }));
  assert.deepEqual(Array.from(g4.data), [0, 255, 136, 0]);
});

// JPEG decoding is checked byte for byte against Pillow in jpeg-pillow.test.ts.

test('corrupt or unknown bytes are UserErrors naming the image', () => {
  const good = encodePng({ width: 4, height: 4, channels: 3, depth: 8, data: new Uint8Array(48).fill(9) });
  const truncated = good.subarray(0, good.length - 20);
  assert.throws(() => decodeImage(truncated, 'row 3'), (e: unknown) => e instanceof UserError && /row 3: corrupt PNG/.test(e.message));
  const flipped = good.slice();
  flipped[40] = flipped[40]! ^ 0xff;
  assert.throws(() => decodeImage(flipped, 'row 4'), UserError);
  assert.throws(() => decodeImage(Uint8Array.from([1, 2, 3, 4]), 'row 5'), (e: unknown) => e instanceof UserError && /row 5: not a PNG or JPEG/.test(e.message));
  assert.throws(() => decodeImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 'row 6'), (e: unknown) => e instanceof UserError && /row 6: corrupt JPEG/.test(e.message));
});

test('real SVHN PNGs decode to the raw pixels', needsShared(), () => {
  const raw = readFileSync(sharedPath('data', 'svhn', 'images_5x32x32x3_uint8.bin'));
  const labels = [5, 1, 8, 9, 4];
  labels.forEach((y, n) => {
    const img = decodeImageRGB(readFileSync(sharedPath('data', 'svhn', `image_${n}_label${y}.png`)));
    assert.deepEqual([img.width, img.height], [32, 32]);
    assert.ok(Buffer.from(img.data).equals(raw.subarray(n * 3072, (n + 1) * 3072)), `svhn image ${n}`);
  });
});
