import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DTYPES, DTYPE_SIZES, bf16ToF32, bitsToF32, decodeToF32, encodeFromF32, f16ToF32, f32ToBf16, f32ToBits, f32ToF16,
} from '../../src/tensor/dtype.js';
import { UserError } from '../../src/errors.js';

// ----------------------------------------------------------------------------------------------------
// Independent references: the value of a half / bfloat16 from its fields by arithmetic, and rounding by
// comparing exact distances in float64 (which holds every float32, half and bfloat16 exactly).

function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m === 0 ? s * Infinity : NaN;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Non-negative finite half magnitudes in increasing order, plus 65536 (the overflow point's neighbour). */
const HALF_MAGNITUDES: number[] = (() => {
  const v: number[] = [];
  for (let h = 0; h <= 0x7bff; h++) v.push(halfValue(h));
  v.push(65536); // rounding as if the exponent were unbounded: whatever rounds here becomes Inf
  return v;
})();

/** Nearest representable by binary search among sorted magnitudes; ties go to the even index (even mantissa). */
function nearestIndex(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  if (x >= sorted[hi]!) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const dLo = x - sorted[lo]!;
  const dHi = sorted[hi]! - x;
  if (dLo < dHi) return lo;
  if (dHi < dLo) return hi;
  return lo % 2 === 0 ? lo : hi;
}

function referenceF16Bits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const i = nearestIndex(HALF_MAGNITUDES, Math.abs(x));
  return sign | (i === HALF_MAGNITUDES.length - 1 ? 0x7c00 : i);
}

function bf16Value(b: number): number {
  return bitsToF32((b << 16) >>> 0);
}

function referenceBf16Bits(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // Magnitudes are monotonic in the bit pattern: find the two neighbours by search over 0..0x7f80.
  let lo = 0;
  let hi = 0x7f80;
  if (a >= 2 ** 128 - 2 ** 103) return sign | 0x7f80; // at or above max + half an ulp: ties go to Inf (even)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (bf16Value(mid) <= a) lo = mid;
    else hi = mid;
  }
  const vHi = hi === 0x7f80 ? 2 ** 128 : bf16Value(hi);
  const dLo = a - bf16Value(lo);
  const dHi = vHi - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

/** Deterministic PRNG (xorshift32) for random bit patterns. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function f32FromBitsArray(bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

test('every half value decodes exactly (F16 → F32) and encodes back to itself', () => {
  const all = new Uint16Array(65536);
  for (let h = 0; h < 65536; h++) all[h] = h;
  const f = f16ToF32(all);
  for (let h = 0; h < 65536; h++) {
    const want = halfValue(h);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(f[h]), `0x${h.toString(16)} should be NaN`);
    else assert.ok(Object.is(f[h], want), `0x${h.toString(16)}: ${f[h]} != ${want}`);
  }
  const back = f32ToF16(f);
  for (let h = 0; h < 65536; h++) {
    if (Number.isNaN(halfValue(h))) {
      assert.equal(back[h]! & 0x7c00, 0x7c00, 'NaN keeps an all-ones exponent');
      assert.notEqual(back[h]! & 0x3ff, 0, 'NaN stays NaN, not Inf');
      assert.equal(back[h]! & 0x8000, h & 0x8000, 'NaN keeps its sign');
    } else {
      assert.equal(back[h], h, `0x${h.toString(16)} round trip`);
    }
  }
});

test('F32 → F16 rounds to nearest, ties to even, like an exact-distance reference', () => {
  const cases: number[] = [];
  // Every exact midpoint between neighbouring halves (ties), and one float32 ulp either side.
  for (let i = 0; i + 1 < HALF_MAGNITUDES.length; i++) {
    const mid = (HALF_MAGNITUDES[i]! + HALF_MAGNITUDES[i + 1]!) / 2;
    const m32 = Math.fround(mid);
    const b = f32ToBits(m32);
    cases.push(b, b + 1, b - 1, (b | 0x80000000) >>> 0);
  }
  // Random float32 patterns spread over all exponents, and the float32 subnormal / tiny range.
  const r = rng(12345);
  for (let i = 0; i < 50000; i++) cases.push(r());
  for (let i = 0; i < 5000; i++) cases.push(((r() & 0x807fffff) | ((100 + (r() % 16)) << 23)) >>> 0); // around 2^-25 .. 2^-12
  // Specials: ±0, ±Inf, largest half, overflow boundary 65520 (ties to Inf), smallest subnormals.
  for (const v of [0, -0, Infinity, -Infinity, 65504, 65519.99, 65520, -65520, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0000001, 3 * 2 ** -26, 2 ** -14, 2 ** -14 - 2 ** -25]) {
    cases.push(f32ToBits(v));
  }
  const src = f32FromBitsArray(cases.filter((b) => (b & 0x7fffffff) <= 0x7f800000)); // NaNs checked elsewhere
  const got = f32ToF16(src);
  let ties = 0;
  for (let i = 0; i < src.length; i++) {
    const want = referenceF16Bits(src[i]!);
    if (got[i] !== want) assert.fail(`f16(${src[i]}) = 0x${got[i]!.toString(16)}, reference 0x${want.toString(16)}`);
    const a = Math.abs(src[i]!);
    const j = nearestIndex(HALF_MAGNITUDES, a);
    if (j > 0 && a - HALF_MAGNITUDES[j - 1]! === HALF_MAGNITUDES[j]! - a) ties++;
  }
  assert.ok(ties > 1000, `the cases include exact ties (${ties})`);
  // Named edge cases, spelled out.
  const named = f32ToF16(new Float32Array([65520, 65519.99, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11]));
  assert.deepEqual([...named], [0x7c00, 0x7bff, 0x0000, 0x0002, 0x3c00, 0x3c02]);
});

test('F32 → F16 and BF16 keep NaN (quiet, signed) and infinities', () => {
  const nans = f32FromBitsArray([0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00000, 0xff800001]);
  for (const [i, h] of [...f32ToF16(nans)].entries()) {
    assert.ok(Number.isNaN(halfValue(h)), `f16 NaN ${i}`);
    assert.equal(h >> 15, f32ToBits(nans[i]!) >>> 31);
  }
  for (const [i, b] of [...f32ToBf16(nans)].entries()) {
    assert.ok(Number.isNaN(bf16Value(b)), `bf16 NaN ${i} (0x${b.toString(16)})`);
    assert.equal(b >> 15, f32ToBits(nans[i]!) >>> 31);
  }
  assert.deepEqual([...f32ToF16(new Float32Array([Infinity, -Infinity, 1e6, -1e6]))], [0x7c00, 0xfc00, 0x7c00, 0xfc00]);
  assert.deepEqual([...f32ToBf16(new Float32Array([Infinity, -Infinity]))], [0x7f80, 0xff80]);
});

test('F32 → BF16 rounds to nearest, ties to even, like an exact-distance reference', () => {
  const cases: number[] = [];
  const r = rng(777);
  for (let i = 0; i < 50000; i++) cases.push(r());
  // Exact ties (low half = 0x8000) with odd and even kept parts, and their neighbours.
  for (let i = 0; i < 5000; i++) {
    const b = ((r() & 0xffff0000) | 0x8000) >>> 0;
    cases.push(b, b + 1, b - 1);
  }
  cases.push(0x7f7f8000, 0x7f7f7fff, 0xff7f8000, 0x00008000, 0x00018000, 0x80000000, 0x00000001);
  const src = f32FromBitsArray(cases.filter((b) => (b & 0x7fffffff) <= 0x7f800000));
  const got = f32ToBf16(src);
  for (let i = 0; i < src.length; i++) {
    const want = referenceBf16Bits(src[i]!);
    if (got[i] !== want) assert.fail(`bf16(${src[i]} = 0x${f32ToBits(src[i]!).toString(16)}) = 0x${got[i]!.toString(16)}, reference 0x${want.toString(16)}`);
  }
  // Max finite + half an ulp ties to even, which is Inf; the largest below stays finite.
  assert.deepEqual([...f32ToBf16(f32FromBitsArray([0x7f7f8000, 0x7f7f7fff, 0x3f808000, 0x3f818000]))], [0x7f80, 0x7f7f, 0x3f80, 0x3f82]);
});

test('BF16 → F32 is exact for every bfloat16 value', () => {
  const all = new Uint16Array(65536);
  for (let b = 0; b < 65536; b++) all[b] = b;
  const f = bf16ToF32(all);
  for (let b = 0; b < 65536; b++) {
    // bfloat16 is the high half of a float32: build that float32 through DataView, independently.
    const dv = new DataView(new ArrayBuffer(4));
    dv.setUint16(2, b, true);
    const want = dv.getFloat32(0, true);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(f[b]));
    else assert.ok(Object.is(f[b], want), `0x${b.toString(16)}`);
  }
});

/** Little-endian bytes for each dtype through DataView setters: a reference encoder independent of the code under test. */
function referenceBytes(dtype: string, values: number[]): Uint8Array {
  const size = DTYPE_SIZES[dtype as keyof typeof DTYPE_SIZES];
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    const o = i * size;
    switch (dtype) {
      case 'F64': dv.setFloat64(o, v, true); break;
      case 'F32': dv.setFloat32(o, v, true); break;
      case 'F16': dv.setUint16(o, referenceF16Bits(v), true); break;
      case 'BF16': dv.setUint16(o, referenceBf16Bits(Math.fround(v)), true); break;
      case 'I64': dv.setBigInt64(o, BigInt(v), true); break;
      case 'U64': dv.setBigUint64(o, BigInt(v), true); break;
      case 'I32': dv.setInt32(o, v, true); break;
      case 'U32': dv.setUint32(o, v, true); break;
      case 'I16': dv.setInt16(o, v, true); break;
      case 'U16': dv.setUint16(o, v, true); break;
      case 'I8': dv.setInt8(o, v); break;
      case 'U8': dv.setUint8(o, v); break;
      case 'BOOL': dv.setUint8(o, v !== 0 ? 1 : 0); break;
      default: throw new Error(dtype);
    }
  });
  return out;
}

/** Values each dtype holds exactly (so that decode(encode(x)) = x). */
const EXACT_VALUES: Record<string, number[]> = {
  F64: [0, -0, 1.5, -2.25, 3.4028234663852886e38, 1e-40, Infinity, -Infinity],
  F32: [0, -0, 1.5, -2.25, 3.4028234663852886e38, 1e-40, Infinity, -Infinity, 0.1],
  F16: [0, -0, 1.5, -2.25, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity],
  BF16: [0, -0, 1.5, -2.25, 2 ** 127, 2 ** -133, Infinity, -Infinity],
  I64: [0, -1, 16777216, -16777216, 77, 2 ** 40],
  U64: [0, 1, 16777216, 2 ** 40],
  I32: [0, -1, 2147483520, -2147483648, 16777216],
  U32: [0, 1, 4294967040, 16777216],
  I16: [0, -1, 32767, -32768],
  U16: [0, 1, 65535],
  I8: [0, -1, 127, -128],
  U8: [0, 1, 255],
  BOOL: [0, 1, 1, 0],
};

test('encode/decode round trips for every dtype, and bytes match an independent little-endian encoder', () => {
  for (const dtype of DTYPES) {
    const values = EXACT_VALUES[dtype]!;
    const bytes = encodeFromF32(dtype, Float32Array.from(values));
    assert.deepEqual([...bytes], [...referenceBytes(dtype, values.map(Math.fround))], `${dtype} bytes`);
    const back = decodeToF32(dtype, bytes);
    assert.equal(back.length, values.length);
    values.forEach((v, i) => assert.ok(Object.is(back[i], Math.fround(v)), `${dtype}[${i}]: ${back[i]} != ${v}`));
  }
});

test('decode works from unaligned byte offsets and F64 rounds to nearest float32', () => {
  const raw = referenceBytes('F64', [0.1, 1 + 2 ** -30, -1e300]);
  const shifted = new Uint8Array(raw.length + 3);
  shifted.set(raw, 3);
  const got = decodeToF32('F64', shifted.subarray(3));
  assert.deepEqual([...got], [Math.fround(0.1), 1, -Infinity]);
  // A Buffer at an odd offset (Buffer.slice would share memory, and stay unaligned).
  const buf = Buffer.alloc(raw.length + 1);
  buf.set(raw, 1);
  assert.deepEqual([...decodeToF32('F64', buf.subarray(1))], [Math.fround(0.1), 1, -Infinity]);
});

test('integers beyond float32 precision are refused by decodeToF32, never silently rounded', () => {
  assert.throws(() => decodeToF32('I32', referenceBytes('I32', [16777217]), "tensor 'x'"), (e: unknown) => e instanceof UserError && /tensor 'x'.*16777217/.test(e.message));
  assert.throws(() => decodeToF32('I64', referenceBytes('I64', [2 ** 53 + 2])), UserError);
  assert.deepEqual([...decodeToF32('I64', referenceBytes('I64', [2 ** 40, -(2 ** 30)]))], [2 ** 40, -(2 ** 30)]);
});

test('encoding non-integers or out-of-range values into integer dtypes is a UserError', () => {
  assert.throws(() => encodeFromF32('I8', new Float32Array([128]), "tensor 'p'"), (e: unknown) => e instanceof UserError && /tensor 'p'.*128.*I8/.test(e.message));
  assert.throws(() => encodeFromF32('U8', new Float32Array([-1])), UserError);
  assert.throws(() => encodeFromF32('I64', new Float32Array([0.5])), UserError);
  assert.throws(() => encodeFromF32('I64', new Float32Array([NaN])), UserError);
  assert.throws(() => encodeFromF32('I64', new Float32Array([2 ** 63])), UserError);
});
