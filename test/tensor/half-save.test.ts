/**
 * Saving a merge in float16 / bfloat16 (a pool whose entries set torch_dtype): the writer rounds the
 * merge's lent float32 buffers in place with the narrowHalf kernel. The kernel rounds as dtype.ts's
 * f32ToF16 / f32ToBf16 do for every class of value (halfway cases, subnormal halves, overflow to
 * infinity, NaN payloads, signed zeros), and a saved merge's bytes are the JavaScript rounding of the
 * same merge computed in float32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskArithmeticAlgorithm, TiesMergingAlgorithm } from '../../src/method/index.js';
import { BaseModelPool } from '../../src/modelpool/index.js';
import { f32ToBf16, f32ToF16 } from '../../src/tensor/dtype.js';
import { F32Arena, narrowHalfInPlace } from '../../src/tensor/kernels/arena.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { mulberry32, randomArrays, toStateDict } from '../method/helpers.js';

/** float32 bit patterns of every class the rounding treats apart, in blocks that mix them. */
function testBits(): Uint32Array {
  const rnd = mulberry32(5);
  const bits: number[] = [];
  for (let e = 0; e < 256; e++) {
    for (const m of [0, 1, 0xfff, 0x1000, 0x1001, 0x3000, 0x2000, 0x7fffff, 0x400000, 0x7fe000, 0x7ff000]) {
      bits.push((e << 23) | m, ((e << 23) | m | 0x80000000) >>> 0);
    }
  }
  // around every float16 value: the value, both neighbours, and the two halfway points
  for (let h = 0; h < 0x7c00; h++) {
    const f = h === 0 ? 0 : (h < 0x400 ? Math.fround(h * 2 ** -24) : 0);
    const base = h < 0x400 ? new Uint32Array(new Float32Array([f]).buffer)[0]! : (((h >> 10) + 112) << 23) | ((h & 0x3ff) << 13);
    for (const d of [0, 1, -1, 0x1000, -0x1000]) bits.push((base + d) >>> 0);
  }
  for (let i = 0; i < 200000; i++) bits.push(Math.floor(rnd() * 2 ** 32) >>> 0);
  // whole blocks of eight normals, so that the vector path runs as well as the value-by-value one
  for (let i = 0; i < 80000; i++) bits.push(((Math.floor(rnd() * 28) + 113) << 23 | Math.floor(rnd() * 2 ** 23) | (rnd() < 0.5 ? 0x80000000 : 0)) >>> 0);
  return Uint32Array.from(bits);
}

test('narrowHalf rounds in place exactly as f32ToF16 / f32ToBf16, for every class of value and tail length', () => {
  const all = testBits();
  for (const bf16 of [false, true]) {
    for (const n of [all.length, all.length - 5, 7, 1]) {
      const values = new Float32Array(all.buffer, 0, n);
      const want = (bf16 ? f32ToBf16 : f32ToF16)(values);
      const arena = F32Arena.create(1, n)!;
      const data = arena.view(0, n);
      new Uint32Array(data.buffer, data.byteOffset, n).set(all.subarray(0, n)); // bits, not values: NaN payloads kept
      const got = narrowHalfInPlace(data, bf16)!;
      assert.equal(got.byteOffset, data.byteOffset);
      const halves = new Uint16Array(got.buffer, got.byteOffset, n);
      for (let i = 0; i < n; i++) {
        if (halves[i] !== want[i]) assert.fail(`${bf16 ? 'BF16' : 'F16'} n=${n} [${i}] bits 0x${all[i]!.toString(16)}: 0x${halves[i]!.toString(16)} vs 0x${want[i]!.toString(16)}`);
      }
    }
  }
  assert.equal(narrowHalfInPlace(new Float32Array(4), false), null, 'outside an arena: the caller rounds');
});

test('a merge saved with torch_dtype float16 / bfloat16 is the float32 merge rounded once, bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-half-save-'));
  // more than 1 MiB in the big tensors (written behind on the helper thread), odd lengths for the tails
  const layout = { 'big.weight': [700, 401], 'small.bias': [13], 'mid.weight': [33, 301] };
  try {
    for (const [dtype, torchDtype, round] of [['F16', 'float16', f32ToF16], ['BF16', 'bfloat16', f32ToBf16]] as const) {
      // off any grid: merged values fall between half-precision values, halfway ones included
      const theta0 = randomArrays(90, { layout });
      const arrays = [theta0, ...[91, 92].map((s) => randomArrays(s, { layout, around: theta0, scale: 0.25 }))];
      const dirs: Record<string, string> = {};
      ['_pretrained_', 'a', 'b'].forEach((name, k) => {
        const d = join(dir, `${dtype}-${name}`);
        mkdirSync(d);
        writeSafetensorsSync(join(d, 'model.safetensors'), toStateDict(arrays[k]!, layout), { dtypes: () => dtype });
        dirs[name] = d;
      });
      for (const make of [() => new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }), () => new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, merge_func: 'sum' })]) {
        const save = async (models: Record<string, unknown>, out: string) => {
          const pool = new BaseModelPool({ models });
          const merged = await make().run(pool);
          await pool.saveModel(merged, out);
          merged.stateDict.close?.();
          return openSafetensors(join(out, 'model.safetensors'));
        };
        const as = (t: string) => Object.fromEntries(Object.entries(dirs).map(([k, d]) => [k, { _target_: 'transformers.AutoModel.from_pretrained', pretrained_model_name_or_path: d, torch_dtype: t }]));
        const what = `${make().constructor.name} ${dtype}`;
        const half = await save(as(torchDtype), join(dir, `out-${dtype}-half`));
        const f32 = await save(as('float32'), join(dir, `out-${dtype}-f32`));
        try {
          for (const name of Object.keys(layout)) {
            assert.equal(half.entry(name).dtype, dtype, `${what} ${name}: saved dtype`);
            assert.equal(f32.entry(name).dtype, 'F32', `${what} ${name}: reference dtype`);
            const want = round(f32.loadF32(name));
            const raw = readFileSync(half.path).subarray(half.dataStart + half.entry(name).begin, half.dataStart + half.entry(name).end);
            assert.deepEqual(new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), want, `${what} ${name}`);
          }
        } finally {
          half.close();
          f32.close();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
