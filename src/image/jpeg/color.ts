/**
 * Colour conversion: libjpeg-turbo's jdcolor.c (YCbCr→RGB and YCCK→CMYK with its 16-bit fixed-point
 * tables), then for four-channel files what Pillow 9.4 does after libjpeg: the "CMYK;I" unpacker
 * (Adobe's inverted CMYK) and `convert("RGB")`'s cmyk2rgb.
 */
import type { Plane } from './upsample.js';

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const fix = (x: number): number => Math.floor(x * (1 << SCALEBITS) + 0.5);

const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (fix(1.402) * x + ONE_HALF) >> SCALEBITS;
  CB_B[i] = (fix(1.772) * x + ONE_HALF) >> SCALEBITS;
  CR_G[i] = -fix(0.71414) * x;
  CB_G[i] = -fix(0.34414) * x + ONE_HALF;
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

export type JpegColorSpace = 'gray' | 'ycbcr' | 'rgb' | 'cmyk' | 'ycck';

/** Interleaves `planes` (already at full resolution) into RGB, or L for greyscale. */
export function convertColor(space: JpegColorSpace, planes: Plane[], width: number, height: number): Uint8Array {
  if (space === 'gray') {
    const p = planes[0]!;
    const out = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) out.set(p.data.subarray(y * p.stride, y * p.stride + width), y * width);
    return out;
  }
  const out = new Uint8Array(width * height * 3);
  const [p0, p1, p2, p3] = planes as [Plane, Plane, Plane, Plane | undefined];
  if (space === 'ycbcr') {
    ycbcrToRgb(p0, p1, p2, width, height, out);
    return out;
  }
  let o = 0;
  for (let y = 0; y < height; y++) {
    const a = y * p0.stride;
    const b = y * p1.stride;
    const c = y * p2.stride;
    const d = p3 ? y * p3.stride : 0;
    for (let x = 0; x < width; x++, o += 3) {
      const v0 = p0.data[a + x]!;
      const v1 = p1.data[b + x]!;
      const v2 = p2.data[c + x]!;
      switch (space) {
        case 'rgb':
          out[o] = v0;
          out[o + 1] = v1;
          out[o + 2] = v2;
          break;
        case 'cmyk':
          cmykToRgb(v0, v1, v2, p3!.data[d + x]!, out, o);
          break;
        case 'ycck':
          cmykToRgb(
            clamp(255 - (v0 + CR_R[v2]!)),
            clamp(255 - (v0 + ((CB_G[v1]! + CR_G[v2]!) >> SCALEBITS))),
            clamp(255 - (v0 + CB_B[v1]!)),
            p3!.data[d + x]!,
            out,
            o,
          );
          break;
        default:
          throw new Error(`colour space ${space}`);
      }
    }
  }
  return out;
}

/** jdcolor.c ycc_rgb_convert; a clamped view does range_limit's clamping. */
function ycbcrToRgb(y: Plane, cb: Plane, cr: Plane, width: number, height: number, out: Uint8Array): void {
  const c = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  const yd = y.data;
  const cbd = cb.data;
  const crd = cr.data;
  let o = 0;
  for (let row = 0; row < height; row++) {
    const a = row * y.stride;
    const b = row * cb.stride;
    const d = row * cr.stride;
    for (let x = 0; x < width; x++, o += 3) {
      const v = yd[a + x]!;
      const u = cbd[b + x]!;
      const w = crd[d + x]!;
      c[o] = v + CR_R[w]!;
      c[o + 1] = v + ((CB_G[u]! + CR_G[w]!) >> SCALEBITS);
      c[o + 2] = v + CB_B[u]!;
    }
  }
}

/** libjpeg's CMYK bytes → Pillow's "CMYK;I" (each inverted) → Pillow's cmyk2rgb. */
function cmykToRgb(c: number, m: number, ye: number, k: number, out: Uint8Array, o: number): void {
  const nk = k; // 255 - (255 - k)
  out[o] = clamp(nk - muldiv255(255 - c, nk));
  out[o + 1] = clamp(nk - muldiv255(255 - m, nk));
  out[o + 2] = clamp(nk - muldiv255(255 - ye, nk));
}

/** Pillow's MULDIV255: a*b/255 rounded with integer arithmetic. */
function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}
