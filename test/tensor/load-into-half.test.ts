/**
 * Reading float16/bfloat16 tensors into a caller's buffer (what merging does) widens every bit pattern
 * exactly, as `loadF32` does, with no allocation per tensor; a merge of float16 models is saved as
 * float16, rounded to nearest-even from the float32 result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TaskArithmeticAlgorithm } from '../../src/method/task-arithmetic.js';
import { BaseModelPool } from '../../src/modelpool/base-pool.js';
import { f16BitsToF32Bits, f32BitsToF16Bits, f32ToBits } from '../../src/tensor/dtype.js';
import { MemoryStateDict, makeTensor } from '../../src/tensor/memory-state-dict.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { craftSafetensors, tempDir } from './support.js';

const ALL = 65536;

/** Every 16-bit pattern, little-endian. */
function allPatterns(): Uint8Array {
  const u = new Uint16Array(ALL);
  for (let i = 0; i < ALL; i++) u[i] = i;
  return new Uint8Array(u.buffer);
}

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

test('loadF32Into widens every F16 and BF16 bit pattern exactly (subnormals, ±0, ±inf, NaN payloads) into a reused buffer', () => {
  const dir = tempDir();
  const pats = allPatterns();
  const f32 = new Float32Array([1.5, -0, 3e-45, Infinity]);
  const data = new Uint8Array(2 * pats.byteLength + f32.byteLength);
  data.set(pats, 0);
  data.set(pats, pats.byteLength);
  data.set(new Uint8Array(f32.buffer), 2 * pats.byteLength);
  const file = openSafetensors(craftSafetensors(join(dir, 'half.safetensors'), {
    h: { dtype: 'F16', shape: [ALL], data_offsets: [0, 2 * ALL] },
    b: { dtype: 'BF16', shape: [256, 256], data_offsets: [2 * ALL, 4 * ALL] },
    f: { dtype: 'F32', shape: [4], data_offsets: [4 * ALL, 4 * ALL + 16] },
  }, data));
  try {
    const buf = new Float32Array(ALL + 10).fill(7);
    const h = file.loadF32Into('h', buf);
    assert.equal(h.length, ALL);
    assert.equal(h.buffer, buf.buffer, 'into the caller’s memory');
    const hb = bitsOf(h);
    for (let i = 0; i < ALL; i++) if (hb[i] !== f16BitsToF32Bits(i)) assert.fail(`F16 0x${i.toString(16)}: got 0x${hb[i]!.toString(16)}`);
    assert.deepEqual(bitsOf(h.slice()), bitsOf(file.loadF32('h')));
    assert.equal(buf[ALL], 7, 'values past the tensor untouched');

    const b = bitsOf(file.loadF32Into('b', buf));
    for (let i = 0; i < ALL; i++) if (b[i] !== (i << 16) >>> 0) assert.fail(`BF16 0x${i.toString(16)}: got 0x${b[i]!.toString(16)}`);

    const f = file.loadF32Into('f', buf);
    assert.deepEqual(bitsOf(f.slice()), bitsOf(f32));
    assert.throws(() => file.loadF32Into('h', new Float32Array(10)), /too small/);
  } finally {
    file.close();
  }
});

test('task arithmetic of float16 models reads them exactly and saves float16, rounded to nearest-even', async () => {
  const dir = tempDir();
  // Values around float16's subnormal range, its largest normals and ordinary weights.
  const seeds = [0, 1, 2];
  const n = 4096;
  const arrays = seeds.map((s) => Float32Array.from({ length: n }, (_, i) => {
    const x = Math.sin(i * 12.9898 + s * 78.233) * 43758.5453;
    const u = x - Math.floor(x) - 0.5;
    return i % 3 === 0 ? u * 1e-5 : i % 3 === 1 ? u * 60000 : u;
  }));
  const paths = ['_pretrained_', 'a', 'b'].map((name, k) => {
    const d = join(dir, name);
    mkdirSync(d);
    const sd = new MemoryStateDict([['w', makeTensor('F32', [n], arrays[k]!)]]);
    writeSafetensorsSync(join(d, 'model.safetensors'), sd, { dtypes: () => 'F16' });
    return [name, d] as const;
  });
  const pool = new BaseModelPool({ models: Object.fromEntries(paths) });
  const merged = await new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }).run(pool);
  const out = join(dir, 'merged.safetensors');
  await pool.saveModel(merged, out);
  merged.stateDict.close?.();

  // Reference: the stored float16 inputs widened, float32 arithmetic in fusion_bench's order, then RNE.
  const widen = (a: Float32Array) => Float32Array.from(a, (x) => {
    const f = new Float32Array(new Uint32Array([f16BitsToF32Bits(f32BitsToF16Bits(f32ToBits(x)))]).buffer);
    return f[0]!;
  });
  const [t0, t1, t2] = arrays.map(widen) as [Float32Array, Float32Array, Float32Array];
  const f = Math.fround;
  const got = openSafetensors(out);
  try {
    assert.equal(got.info('w').dtype, 'F16');
    const raw = new Uint16Array(got.loadRaw('w').slice().buffer);
    for (let i = 0; i < n; i++) {
      const acc = f(f(t1[i]! - t0[i]!) + f(t2[i]! - t0[i]!));
      const want = f32BitsToF16Bits(f32ToBits(f(t0[i]! + f(f(0.3) * acc))));
      if (raw[i] !== want) assert.fail(`element ${i}: got 0x${raw[i]!.toString(16)}, want 0x${want.toString(16)}`);
    }
  } finally {
    got.close();
  }
});

test('a torch_dtype view fills a buffer with the values its loadF32 gives (rounded to float16/bfloat16)', async () => {
  const dir = tempDir();
  const n = 1000;
  const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** ((i % 12) - 8));
  const d = join(dir, 'm');
  mkdirSync(d);
  writeSafetensorsSync(join(d, 'model.safetensors'), new MemoryStateDict([['w', makeTensor('F32', [n], data)]]));
  for (const torch_dtype of ['float16', 'bfloat16', 'float32']) {
    const pool = new BaseModelPool({ models: { m: { _target_: 'transformers.AutoModel.from_pretrained', pretrained_model_name_or_path: d, torch_dtype } } });
    const m = await pool.loadModel('m');
    const sd = m.stateDict as typeof m.stateDict & { loadF32Into(name: string, out: Float32Array): Float32Array };
    const into = sd.loadF32Into('w', new Float32Array(n + 3));
    assert.deepEqual(bitsOf(into.slice()), bitsOf(sd.loadF32('w')), torch_dtype);
    m.stateDict.close?.();
  }
});
