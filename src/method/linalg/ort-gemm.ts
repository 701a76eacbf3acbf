/**
 * Synchronous float64 matrix products on onnxruntime's CPU MatMul, for the O(n³) steps of dense.ts.
 * onnxruntime's GEMM runs ~10× faster than the best plain-JS kernel (dense.ts' dotRows) and uses every
 * core, but its `run` is asynchronous while the merge kernels are synchronous (tensor-merge.ts'
 * `combine`): so the session lives in a worker thread and the caller blocks on Atomics.wait until the
 * worker has written the product into shared memory. Nothing else runs on the caller's thread meanwhile,
 * which is what a synchronous call means anyway.
 *
 * `ortMatmul` returns null when the worker cannot be used (it failed to start, or a run failed; the
 * reason is kept in `ortGemmStatus()`), and callers fall back to JS. FUSION_BENCH_ORT_GEMM=0 turns it off.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { DataType } from '../../onnx/model.js';
import { DONE, FAILED, HEADER_BYTES, jobBytes, PENDING, READY } from './ort-gemm-protocol.js';

/** How long a starting worker may take to load onnxruntime before JS is used instead. */
const START_TIMEOUT_MS = 30_000;

interface Bridge {
  readonly worker: Worker;
  sab: SharedArrayBuffer;
}

let bridge: Bridge | null = null;
let offReason: string | null = process.env.FUSION_BENCH_ORT_GEMM === '0' ? 'FUSION_BENCH_ORT_GEMM=0' : null;

function matmulModel(): Uint8Array {
  const g = new GraphBuilder('matmul_f64');
  const a = g.input('a', DataType.DOUBLE, ['m', 'k']);
  const b = g.input('b', DataType.DOUBLE, ['k', 'n']);
  g.output(g.node('MatMul', [a, b]), 'c', DataType.DOUBLE, ['m', 'n']);
  return g.build({ opset: 17 });
}

function start(): Bridge | null {
  if (offReason !== null) return null;
  if (bridge !== null) return bridge;
  const ready = new SharedArrayBuffer(4);
  const flag = new Int32Array(ready);
  let worker: Worker;
  try {
    worker = new Worker(new URL('./ort-gemm-worker.js', import.meta.url), {
      workerData: { ready, threads: availableParallelism(), model: matmulModel() },
    });
  } catch (e) {
    offReason = `the GEMM worker did not start: ${e instanceof Error ? e.message : String(e)}`;
    return null;
  }
  worker.unref(); // an idle worker must not keep the process alive
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Atomics.load(flag, 0) !== READY && Date.now() < deadline) Atomics.wait(flag, 0, 0, 50);
  if (Atomics.load(flag, 0) !== READY) {
    void worker.terminate();
    offReason = `the GEMM worker did not load onnxruntime within ${START_TIMEOUT_MS / 1000} s`;
    return null;
  }
  bridge = { worker, sab: new SharedArrayBuffer(jobBytes(64, 64, 64)) };
  return bridge;
}

/** Why products run in JS ('' while onnxruntime is in use or not yet tried). */
export function ortGemmStatus(): string {
  return offReason ?? '';
}

/**
 * A (m×k) · B (k×n) on onnxruntime, or null when it is unavailable. Operands are written into shared
 * memory by `fillA`/`fillB` (so callers can transpose on the way in instead of copying twice).
 */
export function ortMatmulWith(
  m: number, k: number, n: number,
  fillA: (dst: Float64Array) => void,
  fillB: (dst: Float64Array) => void,
): Float64Array | null {
  const b = start();
  if (b === null) return null;
  const bytes = jobBytes(m, k, n);
  if (b.sab.byteLength < bytes) b.sab = new SharedArrayBuffer(bytes);
  const sab = b.sab;
  fillA(new Float64Array(sab, HEADER_BYTES, m * k));
  fillB(new Float64Array(sab, HEADER_BYTES + 8 * m * k, k * n));
  const ctl = new Int32Array(sab, 0, 2);
  Atomics.store(ctl, 0, PENDING);
  b.worker.postMessage({ sab, m, k, n });
  while (Atomics.load(ctl, 0) === PENDING) Atomics.wait(ctl, 0, PENDING, 1000);
  if (Atomics.load(ctl, 0) !== DONE) {
    const text = new Uint8Array(sab, 8, HEADER_BYTES - 8);
    const end = text.indexOf(0);
    offReason = `onnxruntime MatMul failed (${Atomics.load(ctl, 0) === FAILED ? new TextDecoder().decode(text.slice(0, end < 0 ? text.length : end)) : 'unknown status'})`;
    void b.worker.terminate();
    bridge = null;
    return null;
  }
  return new Float64Array(sab, HEADER_BYTES + 8 * (m * k + k * n), m * n).slice();
}

/** A (m×k) · B (k×n) on onnxruntime, or null when it is unavailable. */
export function ortMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array | null {
  return ortMatmulWith(m, k, n, (d) => d.set(a.subarray(0, m * k)), (d) => d.set(b.subarray(0, k * n)));
}
