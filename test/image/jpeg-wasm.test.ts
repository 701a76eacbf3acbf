// The JPEG decoder's WebAssembly kernels (IDCT, YCbCr→RGB) against its JavaScript ones: on every
// fixture file (each sampling, progressive, restarts, greyscale, CMYK/YCCK, damaged data), and on random
// coefficient blocks and chroma planes, including the extreme values where the 16-bit lanes wrap and saturate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJpeg } from '../../src/image/jpeg/index.js';
import { idctIslow } from '../../src/image/jpeg/idct.js';
import { convertColor } from '../../src/image/jpeg/color.js';
import { upsample } from '../../src/image/jpeg/upsample.js';
import { U8Wasm } from '../../src/image/u8-wasm.js';
import { repoRoot } from '../helpers/paths.js';

const w = U8Wasm.create();
const skip = w === null ? 'no WebAssembly SIMD here' : false;
const dir = join(repoRoot, 'test', 'fixtures', 'jpeg');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
}

const fixtures = [...readdirSync(dir).filter((f) => f.endsWith('.jpg')).map((f) => join(dir, f)), ...readdirSync(join(dir, 'bench')).filter((f) => f.endsWith('.jpg')).map((f) => join(dir, 'bench', f))];

/** The default decoding (WebAssembly kernels, fast AC table, reading-ahead replay only where it can matter) against the reference. */
function sameAsReference(bytes: Uint8Array, what: string): void {
  const opts = { maxPixels: 1 << 26, what };
  let js: ReturnType<typeof decodeJpeg>;
  try {
    js = decodeJpeg(bytes, { ...opts, jsOnly: true });
  } catch (e) {
    assert.throws(() => decodeJpeg(bytes, opts), { message: (e as Error).message }, what);
    return;
  }
  const fast = decodeJpeg(bytes, opts);
  assert.deepEqual([fast.width, fast.height, fast.channels], [js.width, js.height, js.channels], what);
  assert.ok(Buffer.from(fast.data).equals(Buffer.from(js.data)), what);
}

test('every fixture JPEG decodes to the same bytes by the fast paths as by the reference', () => {
  assert.ok(fixtures.length >= 20, `only ${fixtures.length} fixtures`);
  for (const f of fixtures) sameAsReference(new Uint8Array(readFileSync(f)), f);
});

test('damaged and cut fixtures: the fast paths give the bytes or the error of the reference', () => {
  const next = lcg(21);
  for (const f of fixtures) {
    const bytes = new Uint8Array(readFileSync(f));
    if (bytes.length > 40000) continue;
    for (let i = 0; i < 6; i++) {
      const bad = bytes.slice();
      // a few bytes changed after the headers (markers may appear or vanish), the end kept
      for (let k = 0; k < 1 + (i % 3); k++) bad[Math.floor(bytes.length / 3) + (next() % Math.floor((bytes.length * 2) / 3 - 2))] = i % 2 ? 0xff : next() >>> 24;
      sameAsReference(bad, `${f} damaged ${i}`);
    }
    sameAsReference(bytes.subarray(0, Math.floor(bytes.length * 0.7)), `${f} cut`);
  }
});

test('the WebAssembly IDCT gives idctIslow’s samples for random, sparse and extreme blocks', { skip }, () => {
  const next = lcg(9);
  const bw = 7;
  const bh = 5;
  const stride = 9; // blocks per stored row, wider than those transformed
  const blocks = stride * bh;
  for (let round = 0; round < 40; round++) {
    const coefs = new Int16Array(blocks * 64);
    const kind = round % 4;
    for (let b = 0; b < blocks; b++) {
      const sparse = next() % 3;
      for (let i = 0; i < 64; i++) {
        const r = next();
        let v: number;
        if (kind === 0) v = ((r >>> 20) % 2048) - 1024; // real-image range
        else if (kind === 1) v = (r >>> 16) - 32768; // anything int16 holds: wrapping and saturation
        else if (kind === 2) v = r & 1 ? 32767 : -32768;
        else v = ((r >>> 24) % 64) - 32;
        // DC-only blocks, first-row-only blocks (the shortcut), and full ones
        if (sparse === 0 && i > 0) v = 0;
        if (sparse === 1 && i >= 8) v = 0;
        coefs[b * 64 + i] = v;
      }
    }
    const q = new Int32Array(64).map(() => (kind === 1 ? next() >>> 16 : 1 + ((next() >>> 24) % 100)));
    const outStride = stride * 8 + 3;
    const want = new Uint8Array(outStride * bh * 8);
    const ws = new Int32Array(64);
    for (let by = 0; by < bh; by++) for (let bx = 0; bx < bw; bx++) idctIslow(coefs, (by * stride + bx) * 64, q, want, by * 8 * outStride + bx * 8, outStride, ws);
    const mem = w!.reserve(coefs.byteLength + 128 + want.length + 64);
    mem.set(new Uint8Array(coefs.buffer), 0);
    new Int16Array(mem.buffer, coefs.byteLength, 64).set(q);
    const outP = coefs.byteLength + 128;
    mem.fill(0, outP, outP + want.length);
    w!.x.idctPlane(0, bw, bh, stride, coefs.byteLength, outP, outStride);
    const got = mem.subarray(outP, outP + want.length);
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`round ${round} (kind ${kind}): byte ${i} ${got[i]} vs ${want[i]}`);
  }
});

test('the WebAssembly YCbCr→RGB gives convertColor’s bytes, odd widths and strides included', { skip }, () => {
  const next = lcg(3);
  for (const [width, height] of [[1, 1], [15, 2], [16, 3], [17, 4], [333, 7]] as const) {
    const stride = width + 5;
    const mk = () => new Uint8Array(stride * height + 64).map(() => next() >>> 24);
    const planes = [mk(), mk(), mk()];
    // include the ends of the range, where the sums clamp
    planes[0]![0] = 255;
    planes[2]![0] = 255;
    planes[1]![Math.min(1, width - 1)] = 0;
    const want = convertColor('ycbcr', planes.map((data) => ({ data, stride })), width, height);
    const size = stride * height + 64;
    const mem = w!.reserve(3 * size + want.length + 64);
    planes.forEach((p, i) => mem.set(p, i * size));
    w!.x.yccToRgb(0, stride, size, stride, 2 * size, stride, width, height, 3 * size);
    assert.ok(Buffer.from(mem.subarray(3 * size, 3 * size + want.length)).equals(Buffer.from(want)), `${width}x${height}`);
  }
});

test('the WebAssembly 2:1 fancy upsampling gives upsample’s bytes (h2v1 and h2v2, odd sizes)', { skip }, () => {
  const next = lcg(5);
  for (const [width, height, vr] of [[3, 1, 1], [3, 2, 2], [9, 5, 2], [16, 8, 1], [17, 9, 2], [41, 3, 1], [160, 128, 2]] as const) {
    const stride = Math.ceil(width / 8) * 8 + 8;
    const src = new Uint8Array(stride * height).map(() => next() >>> 24);
    src[0] = 255;
    src[stride - 1] = 0;
    const outRows = height * vr - (vr === 2 && height > 1 ? 1 : 0); // an odd image height leaves the last chroma row half used
    const want = upsample({ data: src, stride }, width, height, 2, vr, outRows);
    const srcP = 64;
    const outP = srcP + src.length + 64;
    const mem = w!.reserve(outP + want.data.length + 64);
    mem.set(src, srcP);
    w!.x.upsampleH2(srcP, stride, height, width, outP, want.stride, outRows, vr - 1);
    assert.ok(Buffer.from(mem.subarray(outP, outP + want.data.length)).equals(Buffer.from(want.data)), `${width}x${height} v${vr}`);
  }
});

test('the WebAssembly YCbCr→RGB agrees on every (Cb, Cr) pair, with Y at 0, 255 and between', { skip }, () => {
  const size = 256 * 256;
  const cb = new Uint8Array(size + 64).map((_, i) => i & 255);
  const cr = new Uint8Array(size + 64).map((_, i) => (i >> 8) & 255);
  for (const yOf of [() => 0, () => 255, (i: number) => (i * 7 + (i >> 8) * 13) & 255]) {
    const y = new Uint8Array(size + 64).map((_, i) => yOf(i));
    const want = convertColor('ycbcr', [y, cb, cr].map((data) => ({ data, stride: 256 })), 256, 256);
    const mem = w!.reserve(3 * (size + 64) + want.length + 64);
    [y, cb, cr].forEach((p, i) => mem.set(p, i * (size + 64)));
    const outP = 3 * (size + 64);
    w!.x.yccToRgb(0, 256, size + 64, 256, 2 * (size + 64), 256, 256, 256, outP);
    assert.ok(Buffer.from(mem.subarray(outP, outP + want.length)).equals(Buffer.from(want)));
  }
});
