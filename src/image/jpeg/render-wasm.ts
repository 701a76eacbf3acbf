/**
 * The decoder's last stage — IDCT, upsampling, colour conversion — with the IDCT and YCbCr→RGB in
 * WebAssembly SIMD (u8-kernels.wat, the same arithmetic as idct.ts and color.ts), all planes in the
 * kernels' memory. Used for every file but those needing block smoothing (idctSmoothed, JavaScript).
 */
import { convertColor, type JpegColorSpace } from './color.js';
import type { Frame } from './scan.js';
import { upsample, upsampledBytes, type Plane } from './upsample.js';
import { SLACK, align16, type U8Wasm } from '../u8-wasm.js';

export function renderWasm(frame: Frame, space: JpegColorSpace, w: U8Wasm): Uint8Array {
  const comps = frame.components;
  // layout: one component's coefficients at a time | its quantisation table | IDCT planes | upsampled planes | RGB
  let coefBytes = 0;
  for (const c of comps) coefBytes = Math.max(coefBytes, c.coefs.byteLength);
  const quantP = align16(coefBytes);
  let p = quantP + 128;
  const planeP: number[] = [];
  const upP: number[] = [];
  for (const c of comps) {
    p = align16(p);
    planeP.push(p);
    p += c.stride * 8 * c.blocksHigh * 8 + SLACK;
  }
  for (const c of comps) {
    p = align16(p);
    upP.push(p);
    const hr = frame.hmax / c.h;
    const vr = frame.vmax / c.v;
    if (hr !== 1 || vr !== 1) p += upsampledBytes(c.width, hr, frame.height) + SLACK;
  }
  const rgbP = align16(p);
  const n = frame.width * frame.height;
  const mem = w.reserve(rgbP + 3 * n + SLACK);
  const quant = new Int16Array(mem.buffer, quantP, 64);
  const planes: Plane[] = comps.map((c, ci) => {
    const stride = c.stride * 8;
    mem.set(new Uint8Array(c.coefs.buffer, c.coefs.byteOffset, c.coefs.byteLength), 0);
    // int16 lanes: the low 16 bits of each value (a component no scan carried is mid-grey, as libjpeg leaves it)
    if (c.quant) quant.set(c.quant);
    else quant.fill(0);
    w.x.idctPlane(0, c.blocksWide, c.blocksHigh, c.stride, quantP, planeP[ci]!, stride);
    c.coefs = new Int16Array(0);
    const plane = { data: mem.subarray(planeP[ci]!, planeP[ci]! + stride * c.blocksHigh * 8), stride };
    const hr = frame.hmax / c.h;
    const vr = frame.vmax / c.v;
    if (hr === 1 && vr === 1) return plane;
    return upsample(plane, c.width, c.height, hr, vr, frame.height, mem.subarray(upP[ci]!, upP[ci]! + upsampledBytes(c.width, hr, frame.height)));
  });
  if (space !== 'ycbcr') return convertColor(space, planes, frame.width, frame.height);
  const at = (q: Plane) => q.data.byteOffset;
  const [y, cb, cr] = planes as [Plane, Plane, Plane];
  w.x.yccToRgb(at(y), y.stride, at(cb), cb.stride, at(cr), cr.stride, frame.width, frame.height, rgbP);
  return mem.slice(rgbP, rgbP + 3 * n);
}
