/**
 * Per-value cost of the task-vector sum's kernels (f32-kernels.wat) and of the reads that feed them, one
 * thread, on one piece at a time as the merge runner does (issue 13's half-precision item).
 *
 * Eight fine-tuned pieces of `--values` values each (normal(0, 0.02) weights, so float16 has its real share
 * of subnormals) are added as task vectors against a float32 θ₀ into a sum, `--rounds` times:
 * - in cache (kernel_in_cache_ns_per_value): float32's `addDiff`; float16 / bfloat16's `addDiffHalf`
 *   (widening as it adds, what the merge runs) and, for comparison, a copy, `widenHalf` into a float32
 *   piece, then `addDiff` (the path before it);
 * - from a file of `--file-mb` (page cache warm, larger than the CPU's caches) with positional reads of one
 *   piece each: the reads alone (read_ns_per_value), and reads each followed by its piece's kernel, as
 *   sumJob runs them (read_and_sum_ns_per_value, and the input bytes per second that is for one thread).
 * Prints JSON.
 *
 * Usage: node dist/bench/kernels.js [--values 32768] [--rounds 1000] [--file-mb 256]
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { F32Arena, kernelsOf } from '../src/tensor/kernels/arena.js';
import { f32ToBf16, f32ToF16 } from '../src/tensor/dtype.js';
import { mulberry32 } from '../src/util/prng.js';
import { benchArgs, benchFail } from './lib/args.js';

const USAGE = 'usage: node dist/bench/kernels.js [--values 32768] [--rounds 1000] [--file-mb 256]';
const { values } = benchArgs(USAGE, {
  options: { values: { type: 'string', default: '32768' }, rounds: { type: 'string', default: '1000' }, 'file-mb': { type: 'string', default: '256' } },
});
const N = Number(values.values);
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(N) || N < 8 || N % 8 !== 0 || N > 1 << 22) benchFail(USAGE, `--values: expected a multiple of 8 from 8 to 4194304, got ${values.values}`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) benchFail(USAGE, `--rounds: expected a positive integer, got ${values.rounds}`);
const FILE_MB = Number(values['file-mb']);
if (!(FILE_MB > 0 && FILE_MB <= 4096)) benchFail(USAGE, `--file-mb: expected a number of MiB from 1 to 4096, got ${values['file-mb']}`);
const MODELS = 8;

// slots: θ₀, the sum, a widened piece, then the eight models' pieces
const arena = F32Arena.create(3 + MODELS, N);
const k = arena === null ? null : kernelsOf(arena.buffer);
if (arena === null || k === null) {
  process.stdout.write(`${JSON.stringify({ error: 'WebAssembly SIMD is not available here: the kernels fall back to JavaScript' })}\n`);
  process.exit(0);
}
const base = arena.view(0, N);
const sum = arena.view(1, N);
const widened = arena.view(2, N);
const piece = (m: number) => arena.view(3 + m, N);
const bytes = new Uint8Array(arena.buffer);

const rand = mulberry32(13);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
for (let i = 0; i < N; i++) base[i] = 0.02 * gauss();
const models = Array.from({ length: MODELS }, () => Float32Array.from(base, (b) => b + 0.002 * gauss()));

/** Lays model m's values into its slot as `dtype` (half types in the slot's first 2N bytes). */
function place(dtype: 'F32' | 'F16' | 'BF16', m: number): Uint8Array {
  const src = models[m]!;
  const enc = dtype === 'F32' ? new Uint8Array(src.buffer.slice(0)) : new Uint8Array((dtype === 'F16' ? f32ToF16(src) : f32ToBf16(src)).buffer);
  bytes.set(enc, piece(m).byteOffset);
  return enc;
}

/** ns per value of `run`, which handles `models` pieces of N values. */
function nsPerValue(run: () => void, models: number): number {
  run(); // warm-up: V8 tiers the module up on first calls
  const t = performance.now();
  for (let r = 0; r < ROUNDS; r++) run();
  return ((performance.now() - t) * 1e6) / (ROUNDS * models * N);
}

// The kernels in cache: one model's piece added seven times (sum, θ₀ and the piece stay in L2).
const kernel: Record<string, number> = {};
const encoded: Record<string, Uint8Array[]> = {};
const ADDS = MODELS - 1;
for (const dtype of ['F32', 'F16', 'BF16'] as const) {
  encoded[dtype] = Array.from({ length: MODELS }, (_, m) => place(dtype, m));
  sum.fill(0);
  const x = piece(1).byteOffset;
  if (dtype === 'F32') {
    kernel.f32_addDiff = nsPerValue(() => {
      for (let m = 1; m < MODELS; m++) k.addDiff(sum.byteOffset, x, base.byteOffset, N);
    }, ADDS);
    continue;
  }
  const bf = dtype === 'BF16' ? 1 : 0;
  const name = dtype.toLowerCase();
  kernel[`${name}_addDiffHalf`] = nsPerValue(() => {
    for (let m = 1; m < MODELS; m++) k.addDiffHalf(sum.byteOffset, x, base.byteOffset, N, bf, 0);
  }, ADDS);
  // widening in place overwrites its input, so each round copies the 2N bytes in first (in cache)
  kernel[`${name}_copy_widen_then_addDiff`] = nsPerValue(() => {
    for (let m = 1; m < MODELS; m++) {
      bytes.copyWithin(widened.byteOffset + 2 * N, x, x + 2 * N);
      k.widenHalf(widened.byteOffset, N, bf);
      k.addDiff(sum.byteOffset, widened.byteOffset, base.byteOffset, N);
    }
  }, ADDS);
}

// From a file of --file-mb (larger than the CPU's caches, as a model's file is; page cache warm), the eight
// pieces of each dtype group by group: read alone, then read and summed as sumJob does (model 0 read into
// the sum and made a difference in place, each further model read into its piece and added at once).
const dir = mkdtempSync(join(tmpdir(), 'fb-bench-kernels-'));
const read: Record<string, number> = {};
const readAndSum: Record<string, number> = {};
try {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const file = join(dir, `${dtype}.bin`);
    const group = Buffer.concat(encoded[dtype]!);
    const groups = Math.max(1, Math.ceil((FILE_MB * 2 ** 20) / group.byteLength));
    writeFileSync(file, Buffer.concat(Array.from({ length: groups }, () => group)));
    const size = dtype === 'F32' ? 4 : 2;
    const bf = dtype === 'BF16' ? 1 : 0;
    const name = dtype.toLowerCase();
    const fd = openSync(file, 'r');
    let g = 0;
    try {
      read[name] = nsPerValue(() => {
        const at = (g++ % groups) * group.byteLength;
        for (let m = 0; m < MODELS; m++) readSync(fd, bytes, piece(m).byteOffset, size * N, at + size * N * m);
      }, MODELS);
      readAndSum[name] = nsPerValue(() => {
        const at = (g++ % groups) * group.byteLength;
        for (let m = 0; m < MODELS; m++) {
          const into = m === 0 ? sum.byteOffset + (size === 4 ? 0 : 2 * N) : piece(m).byteOffset;
          readSync(fd, bytes, into, size * N, at + size * N * m);
          if (size === 2) k.addDiffHalf(sum.byteOffset, into, base.byteOffset, N, bf, m === 0 ? 1 : 0);
          else if (m === 0) k.sub(sum.byteOffset, base.byteOffset, N);
          else k.addDiff(sum.byteOffset, into, base.byteOffset, N);
        }
      }, MODELS);
    } finally {
      closeSync(fd);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const round = (x: number) => Number(x.toFixed(3));
const perValue = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([n, v]) => [n, round(v)]));
process.stdout.write(`${JSON.stringify({
  cpu: cpus()[0]?.model ?? 'unknown',
  values_per_piece: N,
  models: MODELS,
  rounds: ROUNDS,
  kernel_in_cache_ns_per_value: perValue(kernel),
  read_ns_per_value: perValue(read),
  read_and_sum_ns_per_value: perValue(readAndSum),
  read_and_sum_input_gb_per_s: Object.fromEntries(Object.entries(readAndSum).map(([n, v]) => [n, round((n === 'f32' ? 4 : 2) / v)])),
}, null, 2)}\n`);
