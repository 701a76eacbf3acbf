/**
 * The WebAssembly SIMD kernels compute what the JavaScript loops compute (and what float32 arithmetic
 * in float64-then-round gives), including NaN, infinities, signed zeros, subnormals and lengths that
 * leave a scalar tail; TIES merges through the arena equal merges through plain arrays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDiff, addInPlace, axpby, baseAddScaled, dotScaled, maxAbsInto, subInPlace } from '../../src/method/f32.js';
import { F32Arena, kernelsFor, widenHalfInPlace } from '../../src/tensor/kernels/arena.js';
import { f16BitsToF32Bits } from '../../src/tensor/dtype.js';
import { TiesMerger, type TaskVectorReader } from '../../src/method/ties-core.js';
import { mulberry32 } from './helpers.js';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e-39, 1.4e-45, 3.4e38, -3.4e38, 1, -1, 0.5];
const LENGTHS = [0, 1, 3, 4, 5, 17, 1024, 1031];

function values(rnd: () => number, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const r = rnd();
    if (r < 0.15) return SPECIAL[Math.floor(rnd() * SPECIAL.length)]!;
    return (rnd() * 2 - 1) * 2 ** Math.round(rnd() * 60 - 30);
  });
}

/** Equal as float32 values: the same bits, or both NaN. */
function sameValues(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

test('arena arrays take the WebAssembly path; mixed arrays do not', () => {
  const arena = F32Arena.create(2, 16);
  assert.ok(arena !== null, 'WebAssembly SIMD is available on Node ≥ 16.4');
  assert.ok(kernelsFor(arena.view(0, 16), arena.view(1, 16)) !== null);
  assert.equal(kernelsFor(arena.view(0, 16), new Float32Array(16)), null);
  assert.equal(kernelsFor(new Float32Array(4)), null);
});

test('element-wise kernels: WebAssembly equals JavaScript equals float64-then-round, bit for bit', () => {
  const rnd = mulberry32(21);
  const f = Math.fround;
  for (const n of LENGTHS) {
    const arena = F32Arena.create(3, Math.max(n, 1))!;
    const [a, x, b] = [0, 1, 2].map(() => values(rnd, n)) as [Float32Array, Float32Array, Float32Array];
    const cases: [string, (acc: Float32Array, x: Float32Array, b: Float32Array) => void, (i: number) => number][] = [
      ['addDiff', (acc, x, b) => addDiff(acc, x, b), (i) => f(a[i]! + f(x[i]! - b[i]!))],
      ['subInPlace', (acc, _x, b) => subInPlace(acc, b), (i) => f(a[i]! - b[i]!)],
      ['addInPlace', (acc, x) => addInPlace(acc, x), (i) => f(a[i]! + x[i]!)],
      ['baseAddScaled', (acc, x, b) => baseAddScaled(acc, b, 0.3, x), (i) => f(b[i]! + f(f(0.3) * x[i]!))],
      // a selection: ties (±0, ±1, equal magnitudes) go to x, a NaN on either side keeps a
      ['maxAbsInto', (acc, x) => maxAbsInto(acc, x), (i) => (Math.abs(x[i]!) >= Math.abs(a[i]!) ? x[i]! : a[i]!)],
      ['axpby', (acc, x, b) => axpby(acc, f(0.7), x, f(-0.3), b), (i) => f(f(f(0.7) * x[i]!) + f(f(-0.3) * b[i]!))],
    ];
    for (const [name, run, ref] of cases) {
      const [wa, wx, wb] = [arena.view(0, n), arena.view(1, n), arena.view(2, n)];
      wa.set(a); wx.set(x); wb.set(b);
      run(wa, wx, wb);
      const js = a.slice();
      run(js, x.slice(), b.slice());
      sameValues(wa, js, `${name} n=${n} wasm vs js`);
      sameValues(js, Float32Array.from({ length: n }, (_, i) => ref(i)), `${name} n=${n} js vs reference`);
    }
  }
});

test('dotScaled: WebAssembly equals JavaScript bit for bit, and both the float64 sum within rounding', () => {
  const rnd = mulberry32(33);
  const f = Math.fround;
  for (const n of [...LENGTHS, 4099]) {
    const arena = F32Arena.create(2, Math.max(n, 1))!;
    // finite weights-like values (sums of squares stay finite), plus zeros and subnormals
    const gen = () => Float32Array.from({ length: n }, () => (rnd() < 0.05 ? [0, -0, 1e-40, -3e-39][Math.floor(rnd() * 4)]! : f((rnd() * 2 - 1) * 0.05)));
    const [x, y] = [gen(), gen()];
    const [wx, wy] = [arena.view(0, n), arena.view(1, n)];
    wx.set(x); wy.set(y);
    for (const [dx, dy] of [[1, 1], [f(0.37), f(2.5)], [f(1e-3), 1]] as const) {
      const wasm = dotScaled(wx, wy, dx, dy);
      const js = dotScaled(x.slice(), y.slice(), dx, dy);
      assert.ok(Object.is(wasm, js), `n=${n} d=(${dx}, ${dy}): wasm ${wasm} vs js ${js}`);
      let seq = 0;
      let mag = 0;
      for (let i = 0; i < n; i++) {
        const p = f(x[i]! / dx) * f(y[i]! / dy);
        seq += p;
        mag += Math.abs(p);
      }
      assert.ok(Math.abs(js - seq) <= 1e-14 * mag + 1e-300, `n=${n}: ${js} vs sequential ${seq}`);
    }
    assert.ok(Object.is(dotScaled(wx, wx), dotScaled(x.slice(), x.slice())), `n=${n}: sum of squares`);
  }
});

test('TIES merges through arena buffers equal merges through plain arrays, for every merge function', () => {
  const rnd = mulberry32(22);
  for (const n of [1, 5, 1031]) {
    for (const tasks of [2, 3, 8]) {
      const base = values(rnd, n);
      // grid values: exact cancellations give zero sums, which the majority sign resolves
      const models = Array.from({ length: tasks }, () => Float32Array.from(base, (b) => (rnd() < 0.05 ? b : b + Math.round((rnd() * 2 - 1) * 4) / 8)));
      const reader: TaskVectorReader = { tasks, names: ['w'], numel: () => n, read: () => ({ base: base.slice(), models: models.map((m) => m.slice()) }) };
      for (const func of ['sum', 'mean', 'max'] as const) {
        for (const majority of [1, -1, 0, null]) {
          const thresholds = Uint32Array.from({ length: tasks }, (_, t) => (t === 0 ? 0 : 0x3e000000)); // keep all / |τ| ≥ 0.125
          const plain = new TiesMerger(reader, { thresholds, majority }, func).merge(base.slice(), models.map((m) => m.slice()));
          const arena = F32Arena.create(tasks + 3, n)!;
          const wb = arena.view(0, n);
          wb.set(base);
          const wm = models.map((m, k) => {
            const v = arena.view(k + 1, n);
            v.set(m);
            return v;
          });
          const out = arena.view(tasks + 1, n).fill(7);
          const got = new TiesMerger(reader, { thresholds, majority }, func).merge(wb, wm, out, arena.view(tasks + 2, n).fill(9));
          assert.equal(got.buffer, out.buffer);
          sameValues(got, plain, `n=${n} tasks=${tasks} ${func} majority=${majority}`);
        }
      }
    }
  }
});

test('half-precision widening in place: WebAssembly equals the bit-exact table for every F16 and BF16 pattern', () => {
  for (const bf16 of [false, true]) {
    for (const n of [65536 + 3, 7, 1]) {
      const halves = Uint16Array.from({ length: n }, (_, i) => (i * 40503) & 0xffff); // every pattern once for n ≥ 65536
      const arena = F32Arena.create(1, n)!;
      const wasm = arena.view(0, n);
      new Uint16Array(wasm.buffer, wasm.byteOffset + 2 * n, n).set(halves);
      widenHalfInPlace(wasm, bf16);
      const js = new Float32Array(n);
      new Uint16Array(js.buffer, 2 * n, n).set(halves);
      widenHalfInPlace(js, bf16);
      const want = Uint32Array.from(halves, (h) => (bf16 ? (h << 16) >>> 0 : f16BitsToF32Bits(h)));
      assert.deepEqual(new Uint32Array(js.buffer), want, `js ${bf16 ? 'BF16' : 'F16'} n=${n}`);
      assert.deepEqual(new Uint32Array(wasm.buffer, wasm.byteOffset, n), want, `wasm ${bf16 ? 'BF16' : 'F16'} n=${n}`);
    }
  }
});

test('half-precision widening: blocks of eight normals (the fast path) equal the table for every normal pattern', () => {
  const n = 65536;
  const halves = Uint16Array.from({ length: n }, (_, i) => i); // exponent groups of 1024: whole blocks of normals
  const arena = F32Arena.create(1, n)!;
  const wasm = arena.view(0, n);
  new Uint16Array(wasm.buffer, wasm.byteOffset + 2 * n, n).set(halves);
  widenHalfInPlace(wasm, false);
  assert.deepEqual(new Uint32Array(wasm.buffer, wasm.byteOffset, n), Uint32Array.from(halves, f16BitsToF32Bits));
});

test('addDiffHalf: acc + (f32(x) − b), and with `first` f32(x) − b in place, equal widening then sub / addDiff', () => {
  const rnd = mulberry32(11);
  for (const bf16 of [false, true]) {
    for (const order of ['sequential', 'scattered'] as const) {
      for (const n of [65536 + 5, 8, 3]) {
        const halves = Uint16Array.from({ length: n }, (_, i) => (order === 'sequential' ? i : i * 40503) & 0xffff);
        const widened = Float32Array.from(halves, (h) => new Float32Array(new Uint32Array([bf16 ? (h << 16) >>> 0 : f16BitsToF32Bits(h)]).buffer)[0]!);
        const b = values(rnd, n);
        const negZero = halves.indexOf(0x8000);
        if (negZero >= 0) b[negZero] = 0; // −0 − (+0) = −0, which an identity of +0 would turn into +0
        const acc0 = values(rnd, n);
        const arena = F32Arena.create(3, n)!;
        const [acc, x, base] = [arena.view(0, n), arena.view(1, n), arena.view(2, n)];
        const k = kernelsFor(acc, x, base)!;
        base.set(b);
        const what = `${bf16 ? 'BF16' : 'F16'} ${order} n=${n}`;

        // acc += f32(x) − b, x elsewhere in the arena
        acc.set(acc0);
        new Uint16Array(x.buffer, x.byteOffset, n).set(halves);
        k.addDiffHalf(acc.byteOffset, x.byteOffset, base.byteOffset, n, bf16 ? 1 : 0, 0);
        const want = Float32Array.from(acc0);
        addDiff(want, widened, b);
        sameValues(acc, want, `add ${what}`);

        // first: acc = f32(x) − b, x the upper half of acc's bytes
        new Uint16Array(acc.buffer, acc.byteOffset + 2 * n, n).set(halves);
        k.addDiffHalf(acc.byteOffset, acc.byteOffset + 2 * n, base.byteOffset, n, bf16 ? 1 : 0, 1);
        const first = Float32Array.from(widened);
        subInPlace(first, b);
        sameValues(acc, first, `first ${what}`);
        if (negZero >= 0) assert.ok(Object.is(acc[negZero], -0), `first ${what}: −0 kept`);
      }
    }
  }
});
