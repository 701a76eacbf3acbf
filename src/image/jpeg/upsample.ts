/**
 * Chroma upsampling as libjpeg-turbo's jdsample.c does with do_fancy_upsampling (its default, which
 * Pillow keeps): the triangle filter for 2:1 horizontal (h2v1), 2:1 vertical (h1v2) and both (h2v2),
 * box replication for other integral ratios and for components at most 2 samples wide. The rows above
 * the first and below the last are copies of them (jdmainct.c's context rows).
 */

export interface Plane {
  data: Uint8Array;
  stride: number;
}

/**
 * Upsamples a `width`×`height` component plane by `hr`×`vr` to (at least) the first `outRows` rows of
 * the image, into `into` when given (at least upsampledBytes long).
 */
export function upsample(p: Plane, width: number, height: number, hr: number, vr: number, outRows: number, into?: Uint8Array): Plane {
  if (hr === 1 && vr === 1) return p;
  const outStride = width * hr;
  const out = into ?? new Uint8Array(outStride * outRows);
  const src = p.data;
  const s = p.stride;
  if (hr === 2 && vr === 1 && width > 2) {
    for (let y = 0; y < outRows; y++) h2v1Row(src, y * s, width, out, y * outStride);
  } else if (hr === 1 && vr === 2) {
    for (let y = 0; y < outRows; y++) {
      const r = y >> 1;
      const odd = y & 1;
      const far = odd ? Math.min(r + 1, height - 1) : Math.max(r - 1, 0);
      const bias = odd ? 2 : 1;
      const a = r * s;
      const b = far * s;
      const o = y * outStride;
      for (let x = 0; x < width; x++) out[o + x] = (src[a + x]! * 3 + src[b + x]! + bias) >> 2;
    }
  } else if (hr === 2 && vr === 2 && width > 2) {
    for (let y = 0; y < outRows; y++) {
      const r = y >> 1;
      const far = y & 1 ? Math.min(r + 1, height - 1) : Math.max(r - 1, 0);
      h2v2Row(src, r * s, far * s, width, out, y * outStride);
    }
  } else {
    for (let y = 0; y < outRows; y++) {
      const a = Math.floor(y / vr) * s;
      const o = y * outStride;
      for (let x = 0; x < outStride; x++) out[o + x] = src[a + Math.floor(x / hr)]!;
    }
  }
  return { data: out, stride: outStride };
}

/** The bytes `upsample` writes. */
export const upsampledBytes = (width: number, hr: number, outRows: number): number => width * hr * outRows;

function h2v1Row(src: Uint8Array, a: number, width: number, out: Uint8Array, o: number): void {
  let v = src[a]!;
  out[o] = v;
  out[o + 1] = (v * 3 + src[a + 1]! + 2) >> 2;
  for (let i = 1; i < width - 1; i++) {
    v = src[a + i]! * 3;
    out[o + 2 * i] = (v + src[a + i - 1]! + 1) >> 2;
    out[o + 2 * i + 1] = (v + src[a + i + 1]! + 2) >> 2;
  }
  const i = width - 1;
  v = src[a + i]!;
  out[o + 2 * i] = (v * 3 + src[a + i - 1]! + 1) >> 2;
  out[o + 2 * i + 1] = v;
}

function h2v2Row(src: Uint8Array, a: number, b: number, width: number, out: Uint8Array, o: number): void {
  let thiscol = src[a]! * 3 + src[b]!;
  let nextcol = src[a + 1]! * 3 + src[b + 1]!;
  out[o] = (thiscol * 4 + 8) >> 4;
  out[o + 1] = (thiscol * 3 + nextcol + 7) >> 4;
  let lastcol = thiscol;
  thiscol = nextcol;
  for (let i = 1; i < width - 1; i++) {
    nextcol = src[a + i + 1]! * 3 + src[b + i + 1]!;
    out[o + 2 * i] = (thiscol * 3 + lastcol + 8) >> 4;
    out[o + 2 * i + 1] = (thiscol * 3 + nextcol + 7) >> 4;
    lastcol = thiscol;
    thiscol = nextcol;
  }
  const i = width - 1;
  out[o + 2 * i] = (thiscol * 3 + lastcol + 8) >> 4;
  out[o + 2 * i + 1] = (thiscol * 4 + 7) >> 4;
}
