/** PNG and JPEG images as datasets store them: decodeImage, then PIL's convert("RGB"). */
import fc from 'fast-check';
import { deflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { decodeImageRGB } from '../../src/image/decode.js';
import type { FuzzTarget } from '../harness.js';
import { mutatedBytes, showBytes } from '../mutate.js';

function pixels(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = x = (x * 1103515245 + 12345) & 0xff;
  return out;
}

function pngSeeds(): Uint8Array[] {
  const w = 7;
  const h = 5;
  return [
    encodePng({ width: w, height: h, data: pixels(w * h * 3, 1), channels: 3 }),
    encodePng({ width: w, height: h, data: pixels(w * h * 4, 2), channels: 4 }),
    encodePng({ width: w, height: h, data: pixels(w * h, 3), channels: 1 }),
    encodePng({ width: w, height: h, data: Uint16Array.from(pixels(w * h, 4), (v) => v * 257), channels: 1, depth: 16 }),
    encodePng({ width: w, height: h, data: pixels(w * h * 2, 5), channels: 2 }),
  ];
}

function jpegSeeds(): Uint8Array[] {
  const w = 16;
  const h = 8;
  return [50, 90].map((quality) => new Uint8Array(jpeg.encode({ width: w, height: h, data: pixels(w * h * 4, quality) }, quality).data));
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A valid PNG whose IDAT inflates to `inflated` bytes whatever its header says (a decompression bomb when larger). */
export function pngWithIdat(width: number, height: number, colorType: number, inflated: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(new Uint8Array(inflated))), chunk('IEND', new Uint8Array(0))];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

export const pngTarget: FuzzTarget<Uint8Array> = {
  name: 'png',
  description: 'PNG bytes of a dataset row: decodeImageRGB (header limits, inflate bound, fast-png, mode conversion)',
  arbitrary: () =>
    fc.oneof(
      { weight: 4, arbitrary: mutatedBytes(pngSeeds()) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 2, 4, 6), fc.integer({ min: 0, max: 1 << 22 }))
          .map(([w, h, ct, n]) => pngWithIdat(w, h, ct, n)),
      },
    ),
  run(bytes) {
    decodeImageRGB(bytes, 'fuzz dataset row 0');
  },
  show: showBytes,
};

export const jpegTarget: FuzzTarget<Uint8Array> = {
  name: 'jpeg',
  description: 'JPEG bytes of a dataset row: decodeImageRGB through the JPEG decoder',
  arbitrary: () => mutatedBytes(jpegSeeds()),
  run(bytes) {
    decodeImageRGB(bytes, 'fuzz dataset row 0');
  },
  show: showBytes,
};
