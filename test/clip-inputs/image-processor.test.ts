import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIPImageProcessor, shortestEdgeResizeSize } from '../../src/models/clip/image-processor.js';
import type { DecodedImage } from '../../src/image/decode.js';
import { UserError } from '../../src/errors.js';
import { readNpy } from '../helpers/npy.js';
import { needsShared, sharedPath } from '../helpers/paths.js';

const INPUTS = ['mnist_like_28x28_L', 'svhn_like_32x32_RGB', 'random_30x40_RGB'];

function loadInput(name: string): DecodedImage {
  const a = readNpy(sharedPath('fixtures', 'clip', 'golden', 'inputs', `${name}.npy`));
  const [height, width] = a.shape as [number, number];
  const grey = a.shape.length === 2;
  return { width, height, channels: grey ? 1 : 3, mode: grey ? 'L' : 'RGB', data: a.data as Uint8Array };
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return 'none';
}

test('shortest-edge size rule: long edge = int(S * long / short)', () => {
  assert.deepEqual(shortestEdgeResizeSize(30, 40, 32), { height: 32, width: 42 });
  assert.deepEqual(shortestEdgeResizeSize(30, 40, 224), { height: 224, width: 298 });
  assert.deepEqual(shortestEdgeResizeSize(40, 30, 224), { height: 298, width: 224 });
  assert.deepEqual(shortestEdgeResizeSize(28, 28, 224), { height: 224, width: 224 });
});

for (const cfg of ['tiny32', 'openai224']) {
  test(`preprocessing matches CLIPImageProcessor + Pillow 9.4 (${cfg})`, needsShared(), () => {
    const proc = CLIPImageProcessor.fromFile(sharedPath('fixtures', 'clip', 'golden', `preprocessor_config_${cfg}.json`));
    const dir = sharedPath('fixtures', 'clip', 'golden', 'preprocess', cfg);
    const images = INPUTS.map(loadInput);
    images.forEach((img, i) => {
      const resized = readNpy(`${dir}/resized_u8_${i}.npy`);
      const r = proc.resize(img);
      assert.deepEqual([r.height, r.width, 3], resized.shape, `resized shape of image ${i}`);
      assert.ok(Buffer.from(r.data).equals(Buffer.from(resized.data as Uint8Array)), `resized_u8_${i} differs at ${firstDiff(r.data, resized.data as Uint8Array)}`);
      const cropped = readNpy(`${dir}/cropped_u8_${i}.npy`);
      const c = proc.centerCropU8(r);
      assert.deepEqual([c.height, c.width, 3], cropped.shape);
      assert.ok(Buffer.from(c.data).equals(Buffer.from(cropped.data as Uint8Array)), `cropped_u8_${i} differs at ${firstDiff(c.data, cropped.data as Uint8Array)}`);
    });
    const expected = readNpy(`${dir}/pixel_values.npy`);
    const out = new Float32Array(expected.data.length + 5).fill(NaN);
    const got = proc.preprocessBatch(images, out);
    assert.equal(got, out, 'writes into the caller buffer');
    let maxErr = 0;
    for (let i = 0; i < expected.data.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - (expected.data[i] as number)));
    assert.ok(maxErr <= 1e-6, `pixel_values max abs error ${maxErr}`);
    assert.ok(Number.isNaN(out[expected.data.length]!), 'does not write past the batch');
  });
}

test('legacy integer sizes and missing keys default as transformers does', () => {
  const p = CLIPImageProcessor.fromConfig({ size: 224, crop_size: 224, resample: 3 });
  assert.deepEqual(p.config.size, { shortestEdge: 224 });
  assert.deepEqual(p.config.cropSize, { height: 224, width: 224 });
  assert.equal(p.config.doRescale, true);
  assert.equal(p.config.doConvertRgb, true);
  assert.equal(p.config.rescaleFactor, 1 / 255);
  assert.throws(() => CLIPImageProcessor.fromConfig({ size: 'big' }, 'x.json'), (e: unknown) => e instanceof UserError && /x\.json: "size"/.test(e.message));
  assert.throws(() => CLIPImageProcessor.fromConfig({ resample: 0 }), UserError);
});

test('centre crop pads with zeros when the image is smaller than the crop', () => {
  const p = CLIPImageProcessor.fromConfig({ do_resize: false, crop_size: { height: 4, width: 4 }, do_normalize: false, do_rescale: false });
  const img: DecodedImage = { width: 2, height: 3, channels: 1, mode: 'L', data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
  const out = p.preprocessBatch([img]);
  // top = (3 - 4) // 2 = -1, left = (2 - 4) // 2 = -1: the image sits at rows 1..3, columns 1..2.
  const plane0 = Array.from(out.subarray(0, 16));
  assert.deepEqual(plane0, [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0]);
  const crop = p.centerCropU8(p.resize(img));
  assert.deepEqual(Array.from(crop.data.subarray(15, 21)), [1, 1, 1, 2, 2, 2]);
});
