/**
 * libjpeg's accurate integer inverse DCT (jidctint.c, jpeg_idct_islow, the default JDCT_ISLOW that
 * Pillow decodes with), including its output range-limit table with the 10-bit wrap-around
 * (jdmaster.c prepare_range_limit_table). libjpeg-turbo's SIMD versions give the same bytes.
 */

const CONST_BITS = 13;
const PASS1_BITS = 2;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;
const SHIFT1 = CONST_BITS - PASS1_BITS;
const ROUND1 = 1 << (SHIFT1 - 1);
const SHIFT2 = CONST_BITS + PASS1_BITS + 3;
const ROUND2 = 1 << (SHIFT2 - 1);
const SCALE = 1 << CONST_BITS;

/** IDCT_range_limit indexed by (value & RANGE_MASK): signed 10-bit value + 128, clamped to 0..255. */
const RANGE = new Uint8Array(1024);
for (let v = 0; v < 1024; v++) {
  const s = (v < 512 ? v : v - 1024) + 128;
  RANGE[v] = s < 0 ? 0 : s > 255 ? 255 : s;
}

/**
 * Transforms the 64 coefficients at `coefs[off]` (natural order) with quantisation table `q` into
 * 8×8 samples at `out[outOff]`, rows `stride` apart. `ws` is a 64-entry workspace.
 */
export function idctIslow(coefs: Int16Array, off: number, q: Int32Array, out: Uint8Array, outOff: number, stride: number, ws: Int32Array): void {
  // Pass 1: columns from the input into the workspace.
  for (let c = 0; c < 8; c++) {
    const i = off + c;
    if (coefs[i + 8] === 0 && coefs[i + 16] === 0 && coefs[i + 24] === 0 && coefs[i + 32] === 0 && coefs[i + 40] === 0 && coefs[i + 48] === 0 && coefs[i + 56] === 0) {
      const dc = coefs[i]! * q[c]! * (1 << PASS1_BITS);
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = dc;
      continue;
    }
    let z2 = coefs[i + 16]! * q[c + 16]!;
    let z3 = coefs[i + 48]! * q[c + 48]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = coefs[i]! * q[c]!;
    z3 = coefs[i + 32]! * q[c + 32]!;
    let tmp0 = (z2 + z3) * SCALE;
    let tmp1 = (z2 - z3) * SCALE;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = coefs[i + 56]! * q[c + 56]!;
    tmp1 = coefs[i + 40]! * q[c + 40]!;
    tmp2 = coefs[i + 24]! * q[c + 24]!;
    tmp3 = coefs[i + 8]! * q[c + 8]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    ws[c] = (tmp10 + tmp3 + ROUND1) >> SHIFT1;
    ws[56 + c] = (tmp10 - tmp3 + ROUND1) >> SHIFT1;
    ws[8 + c] = (tmp11 + tmp2 + ROUND1) >> SHIFT1;
    ws[48 + c] = (tmp11 - tmp2 + ROUND1) >> SHIFT1;
    ws[16 + c] = (tmp12 + tmp1 + ROUND1) >> SHIFT1;
    ws[40 + c] = (tmp12 - tmp1 + ROUND1) >> SHIFT1;
    ws[24 + c] = (tmp13 + tmp0 + ROUND1) >> SHIFT1;
    ws[32 + c] = (tmp13 - tmp0 + ROUND1) >> SHIFT1;
  }
  // Pass 2: rows from the workspace into the output.
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = outOff + r * stride;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const v = RANGE[((ws[w]! + (1 << (PASS1_BITS + 2))) >> (PASS1_BITS + 3)) & 1023]!;
      for (let x = 0; x < 8; x++) out[o + x] = v;
      continue;
    }
    let z2 = ws[w + 2]!;
    let z3 = ws[w + 6]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (ws[w]! + ws[w + 4]!) * SCALE;
    let tmp1 = (ws[w]! - ws[w + 4]!) * SCALE;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[w + 7]!;
    tmp1 = ws[w + 5]!;
    tmp2 = ws[w + 3]!;
    tmp3 = ws[w + 1]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    out[o] = RANGE[((tmp10 + tmp3 + ROUND2) >> SHIFT2) & 1023]!;
    out[o + 7] = RANGE[((tmp10 - tmp3 + ROUND2) >> SHIFT2) & 1023]!;
    out[o + 1] = RANGE[((tmp11 + tmp2 + ROUND2) >> SHIFT2) & 1023]!;
    out[o + 6] = RANGE[((tmp11 - tmp2 + ROUND2) >> SHIFT2) & 1023]!;
    out[o + 2] = RANGE[((tmp12 + tmp1 + ROUND2) >> SHIFT2) & 1023]!;
    out[o + 5] = RANGE[((tmp12 - tmp1 + ROUND2) >> SHIFT2) & 1023]!;
    out[o + 3] = RANGE[((tmp13 + tmp0 + ROUND2) >> SHIFT2) & 1023]!;
    out[o + 4] = RANGE[((tmp13 - tmp0 + ROUND2) >> SHIFT2) & 1023]!;
  }
}
