import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResizeCropKernels, cropU8, resizeCropJs, type CropWindow } from '../../src/image/resize-crop.js';
import type { ResampleFilter } from '../../src/image/resample.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';

const kernels = ResizeCropKernels.create();
const skip = kernels === null ? 'no WebAssembly SIMD here' : false;

function randomImage(w: number, h: number, seed: number, extreme: boolean): { width: number; height: number; channels: number; data: Uint8Array } {
  let s = seed >>> 0;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    // extreme: only 0 and 255, which makes every filter overshoot (the clamping at both ends)
    data[i] = extreme ? ((s >>> 30) & 1) * 255 : s >>> 24;
  }
  return { width: w, height: h, channels: 3, data };
}

const centred = (h: number, w: number, ch: number, cw: number): CropWindow => ({ top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), height: ch, width: cw });

const CASES: [inW: number, inH: number, outW: number, outH: number, win: (w: number, h: number) => CropWindow][] = [
  [320, 256, 280, 224, (w, h) => centred(h, w, 224, 224)], // the clip-eval bench's JPEGs
  [32, 32, 224, 224, (w, h) => centred(h, w, 224, 224)], // SVHN-like PNGs, upscaled
  [40, 30, 298, 224, (w, h) => centred(h, w, 224, 224)],
  [28, 28, 32, 32, (w, h) => centred(h, w, 32, 32)],
  [37, 23, 17, 11, (w, h) => ({ top: 0, left: 0, height: h, width: w })], // the whole image, odd sizes
  [37, 23, 37, 11, (w, h) => centred(h, w, 5, 9)], // vertical pass only
  [37, 23, 17, 23, (w, h) => centred(h, w, 5, 9)], // horizontal pass only
  [13, 9, 13, 9, (w, h) => centred(h, w, 4, 6)], // no resize: a copy of the window
  [30, 20, 12, 8, (w, h) => centred(h, w, 14, 10)], // window larger than the image: zero padding all round
  [30, 20, 12, 8, () => ({ top: -3, left: 5, height: 6, width: 12 })], // partly outside
  [30, 20, 12, 8, () => ({ top: 20, left: 40, height: 3, width: 3 })], // wholly outside
  [1, 1, 5, 3, (w, h) => centred(h, w, 3, 3)],
  [600, 2, 7, 1, (w, h) => centred(h, w, 1, 5)],
];

const FILTERS: ResampleFilter[] = ['bicubic', 'bilinear', 'box', 'hamming', 'lanczos'];

test('WebAssembly resize + crop gives the JavaScript resize then crop, byte for byte', { skip }, () => {
  let seed = 1;
  for (const [inW, inH, outW, outH, winOf] of CASES) {
    for (const filter of FILTERS) {
      for (const extreme of [false, true]) {
        const src = randomImage(inW, inH, seed++, extreme);
        const win = winOf(outW, outH);
        const want = resizeCropJs(src, outW, outH, win, filter);
        const got = kernels!.resizeCrop(src, outW, outH, win, filter);
        assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${inW}x${inH} → ${outW}x${outH} ${JSON.stringify(win)} ${filter} extreme=${extreme}`);
      }
    }
  }
});

test('WebAssembly resize + crop + normalise gives the lookup table applied to the JavaScript crop, planes first', { skip }, () => {
  const lut = new Float32Array(768).map((_, i) => (i % 256) * 0.01 - Math.floor(i / 256));
  let seed = 100;
  for (const [inW, inH, outW, outH, winOf] of CASES) {
    const src = randomImage(inW, inH, seed++, false);
    const win = winOf(outW, outH);
    const crop = resizeCropJs(src, outW, outH, win, 'bicubic');
    const plane = win.width * win.height;
    const out = new Float32Array(3 * plane + 4).fill(NaN);
    kernels!.resizeCropNormalize(src, outW, outH, win, 'bicubic', lut, out, 2);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) assert.equal(out[2 + c * plane + i], lut[c * 256 + crop[3 * i + c]!], `${inW}x${inH} pixel ${i} channel ${c}`);
    }
    assert.ok(Number.isNaN(out[0]!) && Number.isNaN(out[1]!) && Number.isNaN(out[3 * plane + 2]!), 'writes only its planes');
  }
});

test('the kernels reuse one memory across sizes: a small image after a large one is still exact', { skip }, () => {
  for (const [w, h] of [[700, 500], [9, 7], [320, 256], [3, 3]] as const) {
    const src = randomImage(w, h, w + h, false);
    const win = centred(224, 224 * 2, 200, 200);
    assert.ok(Buffer.from(kernels!.resizeCrop(src, 448, 224, win, 'bicubic')).equals(Buffer.from(resizeCropJs(src, 448, 224, win, 'bicubic'))), `${w}x${h}`);
  }
});

test('cropU8 copies the window and zero-fills outside the image', () => {
  const data = Uint8Array.from({ length: 4 * 3 }, (_, i) => i + 1); // 2×2 RGB
  assert.deepEqual(Array.from(cropU8(data, 2, 2, 3, { top: -1, left: 1, height: 2, width: 2 })), [0, 0, 0, 0, 0, 0, 4, 5, 6, 0, 0, 0]);
});

test("CLIPImageProcessor's resizeCropU8 and preprocessInto agree with resize, centerCropU8 and the normalisation", () => {
  const p = CLIPImageProcessor.fromConfig({ size: 224, crop_size: 224, resample: 3 });
  const img = { ...randomImage(320, 256, 5, false), mode: 'RGB' as const };
  const crop = p.centerCropU8(p.resize(img));
  assert.ok(Buffer.from(p.resizeCropU8(img).data).equals(Buffer.from(crop.data)));
  const viaCrop = new Float32Array(3 * 224 * 224);
  new CLIPImageProcessor({ ...p.config, doResize: false, doCenterCrop: false }).preprocessInto({ ...crop, channels: 3, mode: 'RGB' }, viaCrop);
  const direct = new Float32Array(3 * 224 * 224);
  p.preprocessInto(img, direct);
  assert.ok(Buffer.from(direct.buffer).equals(Buffer.from(viaCrop.buffer)));
});
