/**
 * The decoder's last stage — IDCT, upsampling, colour conversion — with the IDCT, 2:1 horizontal fancy
 * upsampling and YCbCr→RGB in WebAssembly SIMD (u8-kernels.wat, the same arithmetic as idct.ts,
 * upsample.ts and color.ts). The coefficients are
 * decoded straight into the kernels' memory (placeCoefficients, before the first scan), next to the
 * planes and the RGB output, so nothing is allocated per image but the result. Files that need block
 * smoothing take the JavaScript path (idctSmoothed) over the same coefficients.
 */
import { convertColor, type JpegColorSpace } from './color.js';
import type { Frame } from './scan.js';
import { upsample, upsampledBytes, type Plane } from './upsample.js';
import { SLACK, align16, type U8Wasm } from '../u8-wasm.js';

/** Where one decoding's buffers lie in the kernels' memory. */
export interface WasmLayout {
  memory: ArrayBufferLike;
  coefP: number[];
  quantP: number[];
  planeP: number[];
  upP: number[];
  rgbP: number;
}

/** Lays out the decoding of `frame` in the memory and points each component's coefficients there (zeroed). */
export function placeCoefficients(frame: Frame, w: U8Wasm): WasmLayout {
  const comps = frame.components;
  let p = 0;
  const take = (bytes: number) => {
    const at = align16(p);
    p = at + bytes + SLACK;
    return at;
  };
  const coefP = comps.map((c) => take(c.stride * c.rows * 64 * 2));
  const quantP = comps.map(() => take(128));
  const planeP = comps.map((c) => take(c.stride * 8 * c.blocksHigh * 8));
  const upP = comps.map((c) => {
    const hr = frame.hmax / c.h;
    return hr === 1 && frame.vmax === c.v ? -1 : take(upsampledBytes(c.width, hr, frame.height));
  });
  const rgbP = take(3 * frame.width * frame.height);
  const mem = w.reserve(p);
  mem.fill(0, 0, quantP[0]!);
  comps.forEach((c, ci) => (c.coefs = new Int16Array(mem.buffer, coefP[ci]!, c.stride * c.rows * 64)));
  return { memory: mem.buffer, coefP, quantP, planeP, upP, rgbP };
}

export function renderWasm(frame: Frame, space: JpegColorSpace, w: U8Wasm, at: WasmLayout): Uint8Array {
  const mem = w.reserve(0);
  // every view made by placeCoefficients would be empty (detached) had the memory grown since
  if (mem.buffer !== at.memory) throw new Error('the kernels’ memory moved while decoding');
  const planes: Plane[] = frame.components.map((c, ci) => {
    const stride = c.stride * 8;
    // int16 lanes: the low 16 bits of each value (a component no scan carried is mid-grey, as libjpeg leaves it)
    const quant = new Int16Array(mem.buffer, at.quantP[ci]!, 64);
    if (c.quant) quant.set(c.quant);
    else quant.fill(0);
    w.x.idctPlane(at.coefP[ci]!, c.blocksWide, c.blocksHigh, c.stride, at.quantP[ci]!, at.planeP[ci]!, stride);
    c.coefs = new Int16Array(0);
    const plane = { data: mem.subarray(at.planeP[ci]!, at.planeP[ci]! + stride * c.blocksHigh * 8), stride };
    const hr = frame.hmax / c.h;
    const vr = frame.vmax / c.v;
    if (hr === 1 && vr === 1) return plane;
    if (hr === 2 && vr <= 2 && c.width > 2) {
      // h2v1 and h2v2, the usual 4:2:2 and 4:2:0 (others, and chroma 2 samples wide or less, in JavaScript)
      const outStride = 2 * c.width;
      w.x.upsampleH2(at.planeP[ci]!, stride, c.height, c.width, at.upP[ci]!, outStride, frame.height, vr - 1);
      return { data: mem.subarray(at.upP[ci]!, at.upP[ci]! + outStride * frame.height), stride: outStride };
    }
    return upsample(plane, c.width, c.height, hr, vr, frame.height, mem.subarray(at.upP[ci]!, at.upP[ci]! + upsampledBytes(c.width, hr, frame.height)));
  });
  if (space !== 'ycbcr') return convertColor(space, planes, frame.width, frame.height);
  const offset = (q: Plane) => q.data.byteOffset;
  const [y, cb, cr] = planes as [Plane, Plane, Plane];
  w.x.yccToRgb(offset(y), y.stride, offset(cb), cb.stride, offset(cr), cr.stride, frame.width, frame.height, at.rgbP);
  return mem.slice(at.rgbP, at.rgbP + 3 * frame.width * frame.height);
}
