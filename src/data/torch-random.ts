/**
 * torch's CPU random generator, as far as `torch.randperm(n, generator=torch.Generator().manual_seed(s))`
 * needs it, so splits pick the same rows as fusion_bench:
 * - the engine is at::mt19937 (aten/src/ATen/core/MT19937RNGEngine.h): Matsumoto–Nishimura's MT19937,
 *   seeded with init_genrand on the low 32 bits of the seed (`manual_seed` → `mt19937(seed)`);
 * - `CPUGeneratorImpl::random()` is one engine output (uint32); `random64()` is two, the first the high word;
 * - randperm_cpu (aten/src/ATen/native/TensorFactories.cpp): for n < UINT32_MAX / 20 a Fisher–Yates
 *   from the front, swapping i with i + random() % (n − i) for i < n − 1; for larger n the inside-out
 *   variant with random64() % (i + 1).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class MT19937 {
  private readonly state = new Uint32Array(N);
  private left = 1;
  private next = 0;

  /** `seed` may be any safe integer or bigint; like torch, only its low 32 bits count. */
  constructor(seed: number | bigint = 5489) {
    const s = typeof seed === 'bigint' ? Number(BigInt.asUintN(32, seed)) : Number(BigInt.asUintN(32, BigInt(seed)));
    const st = this.state;
    st[0] = s;
    for (let j = 1; j < N; j++) {
      const prev = st[j - 1]!;
      st[j] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + j) >>> 0;
    }
  }

  /** The next 32-bit output (`random()`). */
  nextU32(): number {
    if (--this.left === 0) this.reload();
    let y = this.state[this.next++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random64()`: two outputs, the first in the high word. */
  nextU64(): bigint {
    const hi = this.nextU32();
    const lo = this.nextU32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  private reload(): void {
    const st = this.state;
    const twist = (u: number, v: number): number => ((((u & UPPER) | (v & LOWER)) >>> 1) ^ (v & 1 ? MATRIX_A : 0)) >>> 0;
    let p = 0;
    for (; p < N - M; p++) st[p] = (st[p + M]! ^ twist(st[p]!, st[p + 1]!)) >>> 0;
    for (; p < N - 1; p++) st[p] = (st[p + M - N]! ^ twist(st[p]!, st[p + 1]!)) >>> 0;
    st[N - 1] = (st[M - 1]! ^ twist(st[N - 1]!, st[0]!)) >>> 0;
    this.left = N;
    this.next = 0;
  }
}

const SMALL_N = Math.floor(0xffffffff / 20);

/** torch.randperm(n, generator) on the CPU: a permutation of 0..n−1, drawing from `gen`. */
export function torchRandperm(n: number, gen: MT19937): Int32Array | Float64Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`randperm: n must be a non-negative integer, got ${n}`);
  if (n < SMALL_N) {
    const r = new Int32Array(n);
    for (let i = 0; i < n; i++) r[i] = i;
    for (let i = 0; i < n - 1; i++) {
      const z = gen.nextU32() % (n - i);
      const save = r[i]!;
      r[i] = r[z + i]!;
      r[z + i] = save;
    }
    return r;
  }
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = Number(gen.nextU64() % BigInt(i + 1));
    r[i] = r[z]!;
    r[z] = i;
  }
  return r;
}
