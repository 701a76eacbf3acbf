/**
 * Resize followed by a crop window (zeros outside the resized image), as resizeU8 and then a copy of
 * the window give it, for RGB images: with WebAssembly SIMD (u8-kernels.wat) only the output pixels
 * the window keeps are computed, by Pillow's arithmetic, so the bytes are the same. Optionally the
 * window is then rescaled and normalised through a per-channel lookup table into float planes.
 * Where WebAssembly SIMD is unavailable (or FUSION_BENCH_NO_WASM=1) the JavaScript resize does it.
 */
import { cachedCoeffs, resizeU8, type Coeffs, type ResampleFilter, type ResizeScratch, type U8Image } from './resample.js';
import { SLACK, U8Wasm, align16 as align, u8Wasm } from './u8-wasm.js';

/** Rows top..top+height, columns left..left+width of the resized image (may reach outside it). */
export interface CropWindow {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Resize + crop (+ normalise) on this thread's u8-kernels instance. */
export class ResizeCropKernels {
  constructor(private readonly w: U8Wasm) {}

  /** Kernels on a fresh instance, or null where WebAssembly SIMD is unavailable. */
  static create(): ResizeCropKernels | null {
    const w = U8Wasm.create();
    return w && new ResizeCropKernels(w);
  }

  /**
   * Computes the window of `src` resized to outW×outH into the memory; returns the byte offset of the
   * window's interleaved RGB (height × width × 3, zeros outside the image) and the memory's end in use.
   */
  private window(src: U8Image, outW: number, outH: number, win: CropWindow, filter: ResampleFilter, extra: number): { crop: number; end: number; mem: Uint8Array } {
    const { width: inW, height: inH, data } = src;
    const y0 = Math.max(0, win.top);
    const y1 = Math.min(outH, win.top + win.height);
    const x0 = Math.max(0, win.left);
    const x1 = Math.min(outW, win.left + win.width);
    const rh = Math.max(0, y1 - y0);
    const rw = Math.max(0, x1 - x0);
    const padded = rh !== win.height || rw !== win.width;
    const horiz = outW !== inW ? cachedCoeffs(inW, outW, filter) : null;
    const vert = outH !== inH ? cachedCoeffs(inH, outH, filter) : null;
    // the source rows the window needs
    let yFirst = y0;
    let yLast = y1;
    if (vert && rh > 0) {
      yFirst = Infinity;
      yLast = 0;
      for (let yy = y0; yy < y1; yy++) {
        yFirst = Math.min(yFirst, vert.bounds[2 * yy]!);
        yLast = Math.max(yLast, vert.bounds[2 * yy]! + vert.bounds[2 * yy + 1]!);
      }
    }
    const srcRows = Math.max(0, yLast - yFirst);
    const srcStride = inW * 3;
    // layout: source rows | horizontal coefficients | vertical coefficients | mid | region | crop | extra
    const srcP = 0;
    const hP = align(srcP + srcRows * srcStride + SLACK);
    const hBytes = horiz ? rw * 8 + rw * horiz.ksize * 4 : 0;
    const vP = align(hP + hBytes);
    const vBytes = vert ? rh * 8 + rh * vert.ksize * 4 : 0;
    const midP = align(vP + vBytes);
    const midBytes = horiz && vert ? rw * 3 * srcRows + SLACK : 0;
    const regP = align(midP + midBytes);
    const regBytes = rw * 3 * rh + SLACK;
    // without padding the region is the crop
    const cropP = padded ? align(regP + regBytes) : regP;
    const end = padded ? align(cropP + win.width * win.height * 3 + SLACK) : align(regP + regBytes);
    const mem = this.w.reserve(end + extra);
    if (rh > 0 && rw > 0) {
      mem.set(data.subarray(yFirst * srcStride, yLast * srcStride), srcP);
      const i32 = new Int32Array(mem.buffer);
      const put = (c: Coeffs, p: number, from: number, n: number) => {
        i32.set(c.bounds.subarray(2 * from, 2 * (from + n)), p >> 2);
        i32.set(c.kk.subarray(from * c.ksize, (from + n) * c.ksize), (p >> 2) + 2 * n);
      };
      if (horiz) put(horiz, hP, x0, rw);
      if (vert) put(vert, vP, y0, rh);
      const hpassTo = (dst: number) => this.w.x.hpass3(srcP, srcStride, srcRows, dst, rw, hP, hP + rw * 8, horiz!.ksize);
      if (horiz && vert) {
        hpassTo(midP);
        this.w.x.vpass(midP, rw * 3, yFirst, regP, rw * 3, rh, vP, vP + rh * 8, vert.ksize);
      } else if (horiz) hpassTo(regP);
      else if (vert) this.w.x.vpass(srcP + x0 * 3, srcStride, yFirst, regP, rw * 3, rh, vP, vP + rh * 8, vert.ksize);
      else for (let y = 0; y < rh; y++) mem.copyWithin(regP + y * rw * 3, srcP + y * srcStride + x0 * 3, srcP + y * srcStride + x1 * 3);
    }
    if (padded) {
      mem.fill(0, cropP, cropP + win.width * win.height * 3);
      const at = cropP + ((y0 - win.top) * win.width + (x0 - win.left)) * 3;
      for (let y = 0; y < rh; y++) mem.copyWithin(at + y * win.width * 3, regP + y * rw * 3, regP + (y + 1) * rw * 3);
    }
    return { crop: cropP, end, mem };
  }

  /** The window's RGB bytes (height × width × 3), into `out` when given. */
  resizeCrop(src: U8Image, outW: number, outH: number, win: CropWindow, filter: ResampleFilter, out?: Uint8Array): Uint8Array {
    const n = win.width * win.height * 3;
    const { crop, mem } = this.window(src, outW, outH, win, filter, 0);
    const result = out ?? new Uint8Array(n);
    result.set(mem.subarray(crop, crop + n));
    return result;
  }

  /** The window rescaled and normalised channels first (3 planes of height × width floats) into `out` at `offset`. */
  resizeCropNormalize(src: U8Image, outW: number, outH: number, win: CropWindow, filter: ResampleFilter, lut: Float32Array, out: Float32Array, offset: number): void {
    const plane = win.width * win.height;
    const { crop, end, mem } = this.window(src, outW, outH, win, filter, lut.byteLength + plane * 12);
    const lutP = end;
    new Float32Array(mem.buffer, lutP, lut.length).set(lut);
    const outP = lutP + lut.byteLength;
    this.w.x.normalize3(crop, plane, lutP, outP, plane * 4);
    out.set(new Float32Array(mem.buffer, outP, plane * 3), offset);
  }
}

/** The JavaScript reference: resizeU8, then the window copied out (zeros outside). */
export function resizeCropJs(src: U8Image, outW: number, outH: number, win: CropWindow, filter: ResampleFilter, scratch?: ResizeScratch, resized?: Uint8Array): Uint8Array {
  const r = resizeU8(src, outW, outH, filter, resized?.subarray(0, outW * outH * src.channels), scratch);
  return cropU8(r, outW, outH, src.channels, win);
}

/** The window of an interleaved `w`×`h` image with `ch` channels, zeros where it reaches outside. */
export function cropU8(data: Uint8Array, w: number, h: number, ch: number, win: CropWindow): Uint8Array {
  const out = new Uint8Array(win.width * win.height * ch);
  const x0 = Math.max(0, win.left);
  const x1 = Math.min(w, win.left + win.width);
  if (x1 <= x0) return out;
  for (let y = 0; y < win.height; y++) {
    const sy = y + win.top;
    if (sy < 0 || sy >= h) continue;
    out.set(data.subarray((sy * w + x0) * ch, (sy * w + x1) * ch), (y * win.width + x0 - win.left) * ch);
  }
  return out;
}

let shared: ResizeCropKernels | null | undefined;

/** This thread's kernels (made on first use), or null where WebAssembly SIMD is unavailable. */
export function resizeCropKernels(): ResizeCropKernels | null {
  if (shared === undefined) {
    const w = u8Wasm();
    shared = w && new ResizeCropKernels(w);
  }
  return shared;
}
