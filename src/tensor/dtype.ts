/**
 * safetensors dtypes: byte sizes and conversions between their little-endian bytes and float32.
 *
 * Files are little-endian (the safetensors format says so). Typed-array views use the host's byte order,
 * so this module assumes a little-endian host — every platform Node.js ships for (x64, arm64) is one;
 * `assertLittleEndianHost` makes a big-endian host fail loudly instead of reading garbage.
 *
 * Rounding to narrower floats (F16, BF16, F32 from F64) is round-to-nearest, ties-to-even, as torch and
 * numpy do; NaN stays NaN (quiet), ±Inf stays ±Inf, F16 keeps subnormals and overflows to ±Inf.
 */
import { UserError } from '../errors.js';
import type { DType } from './types.js';

export const DTYPE_SIZES: Readonly<Record<DType, number>> = Object.freeze({
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8,
});

export const DTYPES: readonly DType[] = Object.freeze(Object.keys(DTYPE_SIZES) as DType[]);

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZES, s);
}

export function dtypeSize(dtype: DType): number {
  return DTYPE_SIZES[dtype];
}

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

let hostChecked = false;
export function assertLittleEndianHost(): void {
  if (hostChecked) return;
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('fusion-bench reads and writes little-endian safetensors through typed arrays and needs a little-endian host');
  }
  hostChecked = true;
}

// ---------------------------------------------------------------------------------------------------
// Bit-level scalar conversions (exported for tests and for callers converting single values).

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function f32ToBits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0]!;
}

export function bitsToF32(bits: number): number {
  u32Scratch[0] = bits;
  return f32Scratch[0]!;
}

/** float32 bit pattern → float16 bit pattern, round-to-nearest-even. */
export function f32BitsToF16Bits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  let mant = f & 0x7fffff;
  if (exp === 0xff) {
    // Inf stays Inf; NaN keeps its top payload bits and is forced quiet (never collapses to Inf).
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): values below half the smallest subnormal round to zero.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const halfway = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rem > halfway || (rem === halfway && (h & 1) !== 0)) h++;
    return sign | h; // a carry out of the mantissa lands on the smallest normal, which is right
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // carry may reach 0x7c00 = Inf, which is right
  return sign | h;
}

/** float16 bit pattern → float32 bit pattern (exact). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp === 0) {
    if (mant === 0) return sign >>> 0;
    // Subnormal half: normalise into a float32 normal.
    let e = 113;
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
}

/** float32 bit pattern → bfloat16 bit pattern, round-to-nearest-even. */
export function f32BitsToBf16Bits(f: number): number {
  if ((f & 0x7fffffff) > 0x7f800000) return ((f >>> 16) | 0x0040) & 0xffff; // NaN: quiet, sign kept
  return ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------------------------------------------
// Array conversions.

let f16Table: Uint32Array | null = null;

/**
 * All 65536 half values as float32 bit patterns: one table lookup per element beats bit twiddling in
 * V8. Copied as integers, not floats: a float load/store may quiet a signalling NaN.
 */
export function f16ToF32Table(): Uint32Array {
  if (f16Table === null) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

export function f16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const t = f16ToF32Table();
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = t[src[i]!]!;
  return dst;
}

export function bf16ToF32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  const n = src.length;
  for (let i = 0; i < n; i++) out[i] = src[i]! << 16;
  return dst;
}

export function f32ToF16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const f = bits[i]!;
    const a = f & 0x7fffffff;
    if (a >= 0x38800000 && a < 0x47800000) {
      // Normal half range (2^-14 ≤ |x| < 65536): rebias, then round to nearest-even by adding
      // 0xfff plus the lowest kept bit before truncating; a carry into the exponent (even to Inf) is right.
      dst[i] = ((f >>> 16) & 0x8000) | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
    } else {
      dst[i] = f32BitsToF16Bits(f);
    }
  }
  return dst;
}

export function f32ToBf16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const f = bits[i]!;
    dst[i] = (f & 0x7fffffff) > 0x7f800000 ? (f >>> 16) | 0x0040 : (f + 0x7fff + ((f >>> 16) & 1)) >>> 16;
  }
  return dst;
}

/** float64 → float32: the typed-array store rounds to nearest-even, as IEEE conversion does. */
export function f64ToF32(src: Float64Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
  return dst;
}

export function f32ToF64(src: Float32Array, dst: Float64Array = new Float64Array(src.length)): Float64Array {
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
  return dst;
}

const F32_EXACT_INT = 16777216; // 2^24: every integer of magnitude up to this is a float32

function inexactInteger(what: string, value: number | bigint, index: number): UserError {
  return new UserError(
    `${what}: integer ${value} at flat index ${index} has no exact float32 value (|x| > 2^24); ` +
      'use loadRaw() for an exact copy of integer tensors',
  );
}

/** Integer array → float32; throws a UserError naming `what` when a value would be rounded. */
function intToF32(src: ArrayLike<number>, dst: Float32Array, what: string): Float32Array {
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    dst[i] = v;
    if ((v > F32_EXACT_INT || v < -F32_EXACT_INT) && dst[i] !== v) throw inexactInteger(what, v, i);
  }
  return dst;
}

function bigIntToF32(src: BigInt64Array | BigUint64Array, dst: Float32Array, what: string): Float32Array {
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const b = src[i]!;
    const v = Number(b);
    dst[i] = v;
    if ((v > F32_EXACT_INT || v < -F32_EXACT_INT) && BigInt(dst[i]!) !== b) throw inexactInteger(what, b, i);
  }
  return dst;
}

/**
 * Little-endian bytes of `dtype` → float32. `bytes` must hold exactly a whole number of elements; when
 * its byteOffset is not a multiple of the element size the bytes are copied once to align them.
 * `what` names the tensor in errors.
 */
export function decodeToF32(dtype: DType, bytes: Uint8Array, what = 'tensor'): Float32Array {
  assertLittleEndianHost();
  const size = DTYPE_SIZES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new Error(`${what}: ${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  const n = bytes.byteLength / size;
  // Copy to align; `new Uint8Array(view)` copies even for a Buffer (whose slice() would not).
  if (bytes.byteOffset % size !== 0) bytes = new Uint8Array(bytes);
  const { buffer, byteOffset } = bytes;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer.slice(byteOffset, byteOffset + n * 4));
    case 'F64':
      return f64ToF32(new Float64Array(buffer, byteOffset, n));
    case 'F16':
      return f16ToF32(new Uint16Array(buffer, byteOffset, n));
    case 'BF16':
      return bf16ToF32(new Uint16Array(buffer, byteOffset, n));
    case 'I8':
      return intToF32(new Int8Array(buffer, byteOffset, n), new Float32Array(n), what);
    case 'U8':
      return intToF32(new Uint8Array(buffer, byteOffset, n), new Float32Array(n), what);
    case 'BOOL': {
      const src = new Uint8Array(buffer, byteOffset, n);
      const dst = new Float32Array(n);
      for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return dst;
    }
    case 'I16':
      return intToF32(new Int16Array(buffer, byteOffset, n), new Float32Array(n), what);
    case 'U16':
      return intToF32(new Uint16Array(buffer, byteOffset, n), new Float32Array(n), what);
    case 'I32':
      return intToF32(new Int32Array(buffer, byteOffset, n), new Float32Array(n), what);
    case 'U32':
      return intToF32(new Uint32Array(buffer, byteOffset, n), new Float32Array(n), what);
    case 'I64':
      return bigIntToF32(new BigInt64Array(buffer, byteOffset, n), new Float32Array(n), what);
    case 'U64':
      return bigIntToF32(new BigUint64Array(buffer, byteOffset, n), new Float32Array(n), what);
  }
}

const INT_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  I8: [-128, 127], U8: [0, 255], I16: [-32768, 32767], U16: [0, 65535],
  I32: [-2147483648, 2147483647], U32: [0, 4294967295],
  // float32 integers in these ranges convert exactly; the bounds are float32 values themselves.
  I64: [-9223372036854775808, 9223372036854775807], U64: [0, 18446744073709551615],
};

function checkIntegers(src: Float32Array, dtype: DType, what: string): void {
  const [lo, hi] = INT_RANGES[dtype]!;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    // I64/U64 upper bounds are 2^63 / 2^64 as doubles, which are out of range: hence `<` there.
    const inRange = dtype === 'I64' || dtype === 'U64' ? v >= lo && v < hi : v >= lo && v <= hi;
    if (!Number.isInteger(v) || !inRange) {
      throw new UserError(`${what}: value ${v} at flat index ${i} is not a ${dtype} integer; cannot store it as ${dtype}`);
    }
  }
}

/**
 * float32 → little-endian bytes of `dtype`, for writing. Float dtypes round to nearest-even; integer
 * dtypes need integral values in range (a UserError names `what` otherwise); BOOL stores x != 0.
 * The returned bytes may share memory with `src` when `dtype` is F32.
 */
export function encodeFromF32(dtype: DType, src: Float32Array, what = 'tensor'): Uint8Array {
  assertLittleEndianHost();
  const n = src.length;
  switch (dtype) {
    case 'F32':
      return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    case 'F64':
      return asBytes(f32ToF64(src));
    case 'F16':
      return asBytes(f32ToF16(src));
    case 'BF16':
      return asBytes(f32ToBf16(src));
    case 'BOOL': {
      const dst = new Uint8Array(n);
      for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0; // NaN is truthy, as in torch's bool()
      return dst;
    }
    case 'I64': {
      checkIntegers(src, dtype, what);
      const dst = new BigInt64Array(n);
      for (let i = 0; i < n; i++) dst[i] = BigInt(src[i]!);
      return asBytes(dst);
    }
    case 'U64': {
      checkIntegers(src, dtype, what);
      const dst = new BigUint64Array(n);
      for (let i = 0; i < n; i++) dst[i] = BigInt(src[i]!);
      return asBytes(dst);
    }
    default: {
      checkIntegers(src, dtype, what);
      const Ctor = { I8: Int8Array, U8: Uint8Array, I16: Int16Array, U16: Uint16Array, I32: Int32Array, U32: Uint32Array }[dtype];
      return asBytes(Ctor.from(src));
    }
  }
}

function asBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
