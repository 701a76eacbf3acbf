/** Hostile images: a decompression bomb and an extreme aspect ratio are UserErrors, not crashes or OOM. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'fast-png';
import { UserError } from '../../src/errors.js';
import { decodeImage, decodeImageRGB } from '../../src/image/decode.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';

const processor = CLIPImageProcessor.fromConfig({ do_resize: true, size: { shortest_edge: 224 }, do_center_crop: true, crop_size: { height: 224, width: 224 }, resample: 3 });

test('a PNG whose header declares 196 megapixels is refused before inflating', () => {
  const png = encode({ width: 1, height: 1, data: new Uint8Array([0, 0, 0]), channels: 3 });
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  view.setUint32(16, 14000);
  view.setUint32(20, 14000);
  assert.throws(() => decodeImage(png, 'row 7'), (e: unknown) => e instanceof UserError && /14000x14000 .* decompression bomb/.test((e as Error).message));
});

test('a 40000×1 image is a clear error at the resize, not a RangeError', () => {
  const img = decodeImageRGB(encode({ width: 40000, height: 1, data: new Uint8Array(40000 * 3), channels: 3 }));
  const out = new Float32Array(3 * 224 * 224);
  assert.throws(() => processor.preprocessInto(img, out), (e: unknown) => e instanceof UserError && /aspect ratio is too extreme/.test((e as Error).message));
});
