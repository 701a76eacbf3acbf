/**
 * Pillow's convolution resize (`Image.resize` with BOX/BILINEAR/HAMMING/BICUBIC/LANCZOS on 8-bit
 * images), reproduced bit for bit from the algorithm of Pillow 9.4's `libImaging/Resample.c`:
 * per-output-pixel filter windows of support × max(scale, 1), coefficients normalised to sum 1 and
 * then rounded to 22-bit fixed point, each pass accumulating in integers with a rounding offset and
 * clamping to 0..255, horizontal pass first (only over the rows the vertical pass reads) then vertical.
 */

export type ResampleFilter = 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

interface Filter {
  fn: (x: number) => number;
  support: number;
}

const FILTERS: Record<ResampleFilter, Filter> = {
  box: { fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0), support: 0.5 },
  bilinear: {
    fn: (x) => {
      if (x < 0) x = -x;
      return x < 1 ? 1 - x : 0;
    },
    support: 1,
  },
  hamming: {
    fn: (x) => {
      if (x < 0) x = -x;
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      // Pillow writes the constants as C floats (0.54f, 0.46f).
      return (Math.sin(x) / x) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(x));
    },
    support: 1,
  },
  bicubic: {
    fn: (x) => {
      const a = -0.5;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
    support: 2,
  },
  lanczos: {
    fn: (x) => (-3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0),
    support: 3,
  },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

/** Pillow's integer codes (`Image.Resampling`), as `resample` in preprocessor configs. */
export function filterFromPilCode(code: number): ResampleFilter | null {
  switch (code) {
    case 1:
      return 'lanczos';
    case 2:
      return 'bilinear';
    case 3:
      return 'bicubic';
    case 4:
      return 'box';
    case 5:
      return 'hamming';
    default:
      return null; // 0 = NEAREST (a different code path in Pillow) or unknown
  }
}

const PRECISION_BITS = 32 - 8 - 2;

export interface Coeffs {
  ksize: number;
  /** Per output pixel: first input index, and count. */
  bounds: Int32Array;
  /** Fixed-point coefficients, ksize per output pixel. */
  kk: Int32Array;
}

// Data sets resize many images of one size: keep the last few coefficient tables.
const coeffCache = new Map<string, Coeffs>();
const COEFF_CACHE_MAX = 32;

/** The filter windows and fixed-point coefficients resizing `inSize` samples to `outSize` (cached). */
export function cachedCoeffs(inSize: number, outSize: number, name: ResampleFilter): Coeffs {
  const key = `${name}:${inSize}:${outSize}`;
  let c = coeffCache.get(key);
  if (c === undefined) {
    c = precomputeCoeffs(inSize, outSize, FILTERS[name]);
    if (coeffCache.size >= COEFF_CACHE_MAX) coeffCache.delete(coeffCache.keys().next().value!);
    coeffCache.set(key, c);
  }
  return c;
}

/** `precompute_coeffs` + `normalize_coeffs_8bpc` for the full box [0, inSize). */
function precomputeCoeffs(inSize: number, outSize: number, filter: Filter): Coeffs {
  const in0 = 0;
  const scale = (inSize - in0) / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x]! / ww : k[x]!;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

const HALF = 1 << (PRECISION_BITS - 1);

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

export interface U8Image {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** A reusable intermediate buffer for the horizontal pass; grown on demand. */
export interface ResizeScratch {
  buf: Uint8Array;
}

/**
 * Resizes interleaved uint8 pixels (any channel count, each channel independently: right for L and
 * RGB; Pillow premultiplies alpha for LA/RGBA, which callers must do themselves). `out`, when given,
 * receives the result (length ≥ outW × outH × channels) and is returned; `scratch` avoids allocating
 * the intermediate image on every call.
 */
export function resizeU8(
  src: U8Image,
  outW: number,
  outH: number,
  filterName: ResampleFilter = 'bicubic',
  out?: Uint8Array,
  scratch?: ResizeScratch,
): Uint8Array {
  const { width: inW, height: inH, channels: ch, data } = src;
  if (!(outW > 0 && outH > 0 && Number.isInteger(outW) && Number.isInteger(outH))) throw new Error(`resizeU8: bad output size ${outW}x${outH}`);
  if (data.length < inW * inH * ch) throw new Error('resizeU8: data shorter than width × height × channels');
  const result = out ?? new Uint8Array(outW * outH * ch);
  if (outW === inW && outH === inH) {
    // Image.resize returns a copy when nothing changes.
    result.set(data.subarray(0, inW * inH * ch));
    return result;
  }
  const vert = cachedCoeffs(inH, outH, filterName);
  const yFirst = vert.bounds[0]!;
  const yLast = vert.bounds[outH * 2 - 2]! + vert.bounds[outH * 2 - 1]!;

  let mid: Uint8Array = data;
  let midW = inW;
  let rowOffset = 0; // first source row the vertical pass's bounds refer to
  if (outW !== inW) {
    const horiz = cachedCoeffs(inW, outW, filterName);
    const rows = yLast - yFirst;
    const need = outW * rows * ch;
    if (outH === inH) mid = result;
    else if (scratch) {
      if (scratch.buf.length < need) scratch.buf = new Uint8Array(need);
      mid = scratch.buf;
    } else mid = new Uint8Array(need);
    horizontalPass(data, inW, ch, yFirst, rows, mid, outW, horiz);
    midW = outW;
    rowOffset = yFirst;
  }
  if (outH !== inH) {
    verticalPass(mid, midW, ch, rowOffset, result, outH, vert);
  }
  return result;
}

function horizontalPass(src: Uint8Array, inW: number, ch: number, yFirst: number, rows: number, dst: Uint8Array, outW: number, c: Coeffs): void {
  const { ksize, bounds, kk } = c;
  for (let yy = 0; yy < rows; yy++) {
    const srcRow = (yy + yFirst) * inW * ch;
    const dstRow = yy * outW * ch;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = bounds[xx * 2]!;
      const xmax = bounds[xx * 2 + 1]!;
      const kOff = xx * ksize;
      for (let b = 0; b < ch; b++) {
        let ss = HALF;
        let p = srcRow + xmin * ch + b;
        for (let x = 0; x < xmax; x++, p += ch) ss += src[p]! * kk[kOff + x]!;
        dst[dstRow + xx * ch + b] = clip8(ss);
      }
    }
  }
}

function verticalPass(src: Uint8Array, w: number, ch: number, rowOffset: number, dst: Uint8Array, outH: number, c: Coeffs): void {
  const { ksize, bounds, kk } = c;
  const stride = w * ch;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]! - rowOffset;
    const ymax = bounds[yy * 2 + 1]!;
    const kOff = yy * ksize;
    const dstRow = yy * stride;
    for (let i = 0; i < stride; i++) {
      let ss = HALF;
      let p = ymin * stride + i;
      for (let y = 0; y < ymax; y++, p += stride) ss += src[p]! * kk[kOff + y]!;
      dst[dstRow + i] = clip8(ss);
    }
  }
}
