/**
 * float32 arithmetic with torch's rounding: each operation is done in double and rounded to float32
 * (exact for +, −, ×, ÷ of float32 operands), in the order fusion_bench's code performs them.
 * Arrays that all lie in one WebAssembly arena (the merge runner's scratch) go through the SIMD kernels,
 * which compute the same float32 values.
 */
import { kernelsFor } from '../tensor/kernels/arena.js';

export const f32 = Math.fround;

/** acc += (a − b), element-wise, in place. */
export function addDiff(acc: Float32Array, a: Float32Array, b: Float32Array): void {
  const k = kernelsFor(acc, a, b);
  if (k !== null) return k.addDiff(acc.byteOffset, a.byteOffset, b.byteOffset, acc.length);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + f32(a[i]! - b[i]!);
}

/** a −= b, in place. */
export function subInPlace(a: Float32Array, b: Float32Array): void {
  const k = kernelsFor(a, b);
  if (k !== null) return k.sub(a.byteOffset, b.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) a[i] = a[i]! - b[i]!;
}

/** acc += x, in place. */
export function addInPlace(acc: Float32Array, x: Float32Array): void {
  const k = kernelsFor(acc, x);
  if (k !== null) return k.add(acc.byteOffset, x.byteOffset, acc.length);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!;
}

/** out = base + s·v with s rounded to float32 first (a Python float times a float32 tensor). */
export function baseAddScaled(out: Float32Array, base: Float32Array, s: number, v: Float32Array): void {
  const s32 = f32(s);
  const k = kernelsFor(out, base, v);
  if (k !== null) return k.baseAddScaled(out.byteOffset, base.byteOffset, s32, v.byteOffset, out.length);
  for (let i = 0; i < out.length; i++) out[i] = base[i]! + f32(s32 * v[i]!);
}

/** best[i] = x[i] where |x[i]| ≥ |best[i]| (later arrays win ties; a NaN on either side keeps best's value). */
export function maxAbsInto(best: Float32Array, x: Float32Array): void {
  const k = kernelsFor(best, x);
  if (k !== null) return k.maxAbsInto(best.byteOffset, x.byteOffset, best.length);
  for (let i = 0; i < best.length; i++) if (Math.abs(x[i]!) >= Math.abs(best[i]!)) best[i] = x[i]!;
}

/**
 * Σ f32(x[i] / dx) · f32(y[i] / dy) in double (dx, dy float32; 1 for a plain dot product), summed as the
 * SIMD kernel sums: indices i mod 4 in four sums, (s0 + s1) + (s2 + s3), then the tail in order — so the
 * result is the same bits whether or not the arrays lie in an arena.
 */
export function dotScaled(x: Float32Array, y: Float32Array, dx = 1, dy = 1): number {
  const k = kernelsFor(x, y);
  if (k !== null) return k.dotScaled(x.byteOffset, y.byteOffset, dx, dy, x.length);
  const v = x.length & ~3;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < v; i += 4) {
    s0 += f32(x[i]! / dx) * f32(y[i]! / dy);
    s1 += f32(x[i + 1]! / dx) * f32(y[i + 1]! / dy);
    s2 += f32(x[i + 2]! / dx) * f32(y[i + 2]! / dy);
    s3 += f32(x[i + 3]! / dx) * f32(y[i + 3]! / dy);
  }
  let s = s0 + s1 + (s2 + s3);
  for (let i = v; i < x.length; i++) s += f32(x[i]! / dx) * f32(y[i]! / dy);
  return s;
}

/** out = s·x + t·y, each product rounded to float32, then their sum (s and t float32). */
export function axpby(out: Float32Array, s: number, x: Float32Array, t: number, y: Float32Array): void {
  const k = kernelsFor(out, x, y);
  if (k !== null) return k.axpby(out.byteOffset, s, x.byteOffset, t, y.byteOffset, out.length);
  for (let i = 0; i < out.length; i++) out[i] = f32(s * x[i]!) + f32(t * y[i]!);
}

/** x /= s in place (s rounded to float32). */
export function divInPlace(x: Float32Array, s: number): void {
  const s32 = f32(s);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / s32;
}

function ceilLog2(x: number): number {
  return x <= 2 ? 1 : 32 - Math.clz32(x - 1);
}

/**
 * torch's float32 `sum(dim=0)` of n stacked rows at one column (CPU `multi_row_sum`): sequential from 0
 * below 16 rows; above, blocks of 16 summed separately and combined in levels.
 */
export function torchColumnSum(vals: Float32Array | Float64Array, n: number): number {
  if (n < 16) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc = f32(acc + vals[i]!);
    return acc;
  }
  const levels = 4;
  const power = Math.max(4, Math.floor(ceilLog2(n) / levels));
  const step = 1 << power;
  const mask = step - 1;
  const acc = [0, 0, 0, 0];
  let i = 0;
  while (i + step <= n) {
    for (let j = 0; j < step; j++, i++) acc[0] = f32(acc[0]! + vals[i]!);
    for (let j = 1; j < levels; j++) {
      acc[j] = f32(acc[j]! + acc[j - 1]!);
      acc[j - 1] = 0;
      if ((i & (mask << (j * power))) !== 0) break;
    }
  }
  for (; i < n; i++) acc[0] = f32(acc[0]! + vals[i]!);
  for (let j = 1; j < levels; j++) acc[0] = f32(acc[0]! + acc[j]!);
  return acc[0]!;
}
