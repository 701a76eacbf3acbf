/**
 * libjpeg's accurate integer inverse DCT (jidctint.c, JDCT_ISLOW, the default that Pillow decodes
 * with) as libjpeg-turbo runs it on x86-64: its AVX2 version (simd/x86_64/jidctint-avx2.asm), which
 * Pillow's libjpeg-turbo uses there. For the coefficients of real images it gives the C code's bytes;
 * for the extreme ones that corrupt or truncated data produce it differs, because it works in 16-bit
 * lanes: dequantised values wrap to 16 bits, sums of two inputs wrap, each pass's outputs saturate
 * (to 16 bits, then to 8), where the C code wraps its output through a 10-bit range-limit table.
 * So the arithmetic below follows the assembly, lane by lane.
 */

const F_0_298 = 2446;
const F_0_390 = 3196;
const F_0_541 = 4433;
const F_0_765 = 6270;
const F_0_899 = 7373;
const F_1_175 = 9633;
const F_1_501 = 12299;
const F_1_847 = 15137;
const F_1_961 = 16069;
const F_2_053 = 16819;
const F_2_562 = 20995;
const F_3_072 = 25172;
const CONST_BITS = 13;
const PASS1_BITS = 2;
const DESCALE_P1 = CONST_BITS - PASS1_BITS;
const DESCALE_P2 = CONST_BITS + PASS1_BITS + 3;

/** The low 16 bits, signed (vpmullw, vpaddw, vpsllw). */
const i16 = (v: number): number => (v << 16) >> 16;
/** Signed saturation to 16 bits (vpackssdw). */
const sat16 = (v: number): number => (v < -32768 ? -32768 : v > 32767 ? 32767 : v);

/**
 * The `dodct` macro on one column or row: 8 int16 values `ws[base + k*step]` replaced by the pass's
 * outputs (rounded, shifted by `shift`, saturated to int16). Products of 16-bit values are summed in
 * pairs in 32 bits (vpmaddwd), as the assembly's reordered constants do.
 */
function dodct(ws: Int32Array, base: number, step: number, shift: number): void {
  const in0 = ws[base]!;
  const in1 = ws[base + step]!;
  const in2 = ws[base + 2 * step]!;
  const in3 = ws[base + 3 * step]!;
  const in4 = ws[base + 4 * step]!;
  const in5 = ws[base + 5 * step]!;
  const in6 = ws[base + 6 * step]!;
  const in7 = ws[base + 7 * step]!;
  const round = 1 << (shift - 1);
  // even part
  const tmp3 = (in2 * (F_0_541 + F_0_765) + in6 * F_0_541) | 0;
  const tmp2 = (in2 * F_0_541 + in6 * (F_0_541 - F_1_847)) | 0;
  const tmp0 = i16(in0 + in4) * (1 << CONST_BITS);
  const tmp1 = i16(in0 - in4) * (1 << CONST_BITS);
  const tmp10 = (tmp0 + tmp3) | 0;
  const tmp13 = (tmp0 - tmp3) | 0;
  const tmp11 = (tmp1 + tmp2) | 0;
  const tmp12 = (tmp1 - tmp2) | 0;
  // odd part
  const z3 = i16(in7 + in3);
  const z4 = i16(in5 + in1);
  const z3s = (z3 * (F_1_175 - F_1_961) + z4 * F_1_175) | 0;
  const z4s = (z3 * F_1_175 + z4 * (F_1_175 - F_0_390)) | 0;
  const o0 = (((in7 * (F_0_298 - F_0_899) + in1 * -F_0_899) | 0) + z3s) | 0;
  const o1 = (((in5 * (F_2_053 - F_2_562) + in3 * -F_2_562) | 0) + z4s) | 0;
  const o3 = (((in7 * -F_0_899 + in1 * (F_1_501 - F_0_899)) | 0) + z4s) | 0;
  const o2 = (((in5 * -F_2_562 + in3 * (F_3_072 - F_2_562)) | 0) + z3s) | 0;
  ws[base] = sat16((((tmp10 + o3) | 0) + round) >> shift);
  ws[base + 7 * step] = sat16((((tmp10 - o3) | 0) + round) >> shift);
  ws[base + step] = sat16((((tmp11 + o2) | 0) + round) >> shift);
  ws[base + 6 * step] = sat16((((tmp11 - o2) | 0) + round) >> shift);
  ws[base + 2 * step] = sat16((((tmp12 + o1) | 0) + round) >> shift);
  ws[base + 5 * step] = sat16((((tmp12 - o1) | 0) + round) >> shift);
  ws[base + 3 * step] = sat16((((tmp13 + o0) | 0) + round) >> shift);
  ws[base + 4 * step] = sat16((((tmp13 - o0) | 0) + round) >> shift);
}

/**
 * Transforms the 64 coefficients at `coefs[off]` (natural order) with quantisation table `q` into
 * 8×8 samples at `out[outOff]`, rows `stride` apart. `ws` is a 64-entry workspace.
 */
export function idctIslow(coefs: Int16Array, off: number, q: Int32Array, out: Uint8Array, outOff: number, stride: number, ws: Int32Array): void {
  let acZero = true;
  for (let i = off + 8; i < off + 64; i++) {
    if (coefs[i] !== 0) {
      acZero = false;
      break;
    }
  }
  if (acZero) {
    // the assembly's shortcut when rows 1-7 of the whole block are zero: DC << PASS1_BITS, in 16 bits
    for (let c = 0; c < 8; c++) {
      const v = i16(i16(coefs[off + c]! * q[c]!) << PASS1_BITS);
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = v;
    }
  } else {
    for (let i = 0; i < 64; i++) ws[i] = i16(coefs[off + i]! * q[i]!);
    for (let c = 0; c < 8; c++) {
      // a column with only its DC: what dodct gives, (in0 << 13 + 2^10) >> 11 saturated, without the work
      if (ws[8 + c] === 0 && ws[16 + c] === 0 && ws[24 + c] === 0 && ws[32 + c] === 0 && ws[40 + c] === 0 && ws[48 + c] === 0 && ws[56 + c] === 0) {
        const v = sat16(ws[c]! * 4);
        for (let r = 0; r < 8; r++) ws[r * 8 + c] = v;
      } else dodct(ws, c, 8, DESCALE_P1);
    }
  }
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = outOff + r * stride;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      // likewise for a row with only its first value
      const d = (ws[w]! * (1 << CONST_BITS) + (1 << (DESCALE_P2 - 1))) >> DESCALE_P2;
      const v = (d < -128 ? -128 : d > 127 ? 127 : d) + 128;
      for (let x = 0; x < 8; x++) out[o + x] = v;
      continue;
    }
    dodct(ws, w, 1, DESCALE_P2);
    for (let x = 0; x < 8; x++) {
      // vpacksswb then + CENTERJSAMPLE
      const v = ws[r * 8 + x]!;
      out[o + x] = (v < -128 ? -128 : v > 127 ? 127 : v) + 128;
    }
  }
}
