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
import { DONE, elements, FAILED, HEADER_BYTES, PENDING, READY } from './ort-gemm-protocol.js';

/** How long a starting worker may take to load onnxruntime before JS is used instead. */
const START_TIMEOUT_MS = 30_000;

interface Bridge {
  readonly worker: Worker;
  sab: SharedArrayBuffer;
}

let bridge: Bridge | null = null;
let threadsWanted = 0;

/**
 * onnxruntime's intra-op threads for this thread's bridge, from its start on (svd-pool.ts shares the
 * cores out between its threads' bridges); 0: FUSION_BENCH_ORT_GEMM_THREADS, else every core.
 */
export function setOrtGemmThreads(n: number): void {
  threadsWanted = n;
}
let offReason: string | null = process.env.FUSION_BENCH_ORT_GEMM === '0' ? 'FUSION_BENCH_ORT_GEMM=0' : null;

/** The graphs the worker runs; inputs x0, x1, … and output y, all float64 with symbolic dimensions. */
function models(): Record<string, Uint8Array> {
  const D = DataType.DOUBLE;
  // y = x0 · x1
  const mm = new GraphBuilder('matmul_f64');
  const a = mm.input('x0', D, ['m', 'k']);
  const b = mm.input('x1', D, ['k', 'n']);
  mm.output(mm.node('MatMul', [a, b]), 'y', D, ['m', 'n']);
  // y = x2 − x0 (x1 (x0ᵀ x2)): a block of Householder reflections I − V T Vᵀ applied to Y
  const wy = new GraphBuilder('wy_f64');
  const v = wy.input('x0', D, ['l', 'b']);
  const t = wy.input('x1', D, ['b', 'b']);
  const y = wy.input('x2', D, ['l', 'c']);
  const vty = wy.node('MatMul', [wy.node('Transpose', [v], { perm: [1, 0] }), y]);
  wy.output(wy.node('Sub', [y, wy.node('MatMul', [v, wy.node('MatMul', [t, vty])])]), 'y', D, ['l', 'c']);
  return { matmul: mm.build({ opset: 17 }), wy: wy.build({ opset: 17 }) };
}

function start(): Bridge | null {
  if (offReason !== null) return null;
  if (bridge !== null) return bridge;
  const ready = new SharedArrayBuffer(512); // status word, then a failure message
  const flag = new Int32Array(ready);
  let worker: Worker;
  try {
    worker = new Worker(new URL('./ort-gemm-worker.js', import.meta.url), {
      workerData: { ready, threads: threadsWanted || Math.trunc(Number(process.env.FUSION_BENCH_ORT_GEMM_THREADS)) || availableParallelism(), models: models() },
      execArgv: [], // the parent's flags (--input-type, --eval, …) are not the worker's
    });
  } catch (e) {
    turnOff(`the GEMM worker did not start: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
  worker.unref(); // an idle worker must not keep the process alive
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Atomics.load(flag, 0) === PENDING && Date.now() < deadline) Atomics.wait(flag, 0, PENDING, 50);
  const status = Atomics.load(flag, 0);
  if (status !== READY) {
    void worker.terminate();
    const text = new Uint8Array(ready, 8);
    const end = text.indexOf(0);
    turnOff(status === FAILED
      ? `the GEMM worker could not load onnxruntime (${new TextDecoder().decode(text.slice(0, end < 0 ? text.length : end))})`
      : `the GEMM worker did not load onnxruntime within ${START_TIMEOUT_MS / 1000} s`);
    return null;
  }
  bridge = { worker, sab: new SharedArrayBuffer(HEADER_BYTES + 8 * 3 * 64 * 64) };
  return bridge;
}

/** Turns onnxruntime off for the rest of the process, saying why once (the SVDs get slower, not wrong). */
function turnOff(reason: string): void {
  offReason = reason;
  process.emitWarning(`${reason}; the SVD methods use JavaScript matrix products instead (slower)`, { code: 'FUSION_BENCH_ORT_GEMM' });
}

/** Why products run in JS ('' while onnxruntime is in use or not yet tried). */
export function ortGemmStatus(): string {
  return offReason ?? '';
}

/**
 * Runs graph `op` on inputs of the given shapes, each written into shared memory by its `fill` (so
 * callers can transpose on the way in instead of copying twice); null when onnxruntime is unavailable.
 */
function ortRun(op: string, dims: readonly (readonly number[])[], fills: readonly ((dst: Float64Array) => void)[], outLength: number): Float64Array | null {
  return ortRunView(op, dims, fills, outLength)?.slice() ?? null;
}

/** ortRun's result in the shared buffer itself: valid only until the next call (no copy, no garbage). */
function ortRunView(op: string, dims: readonly (readonly number[])[], fills: readonly ((dst: Float64Array) => void)[], outLength: number): Float64Array | null {
  const b = start();
  if (b === null) return null;
  let bytes = HEADER_BYTES + 8 * outLength;
  for (const d of dims) bytes += 8 * elements(d);
  if (b.sab.byteLength < bytes) b.sab = new SharedArrayBuffer(bytes);
  const sab = b.sab;
  let at = HEADER_BYTES;
  dims.forEach((d, i) => {
    const len = elements(d);
    fills[i]!(new Float64Array(sab, at, len));
    at += 8 * len;
  });
  const ctl = new Int32Array(sab, 0, 2);
  Atomics.store(ctl, 0, PENDING);
  b.worker.postMessage({ sab, op, dims, outLength });
  while (Atomics.load(ctl, 0) === PENDING) Atomics.wait(ctl, 0, PENDING, 1000);
  if (Atomics.load(ctl, 0) !== DONE) {
    const text = new Uint8Array(sab, 8, HEADER_BYTES - 8);
    const end = text.indexOf(0);
    turnOff(`onnxruntime ${op} failed (${Atomics.load(ctl, 0) === FAILED ? new TextDecoder().decode(text.slice(0, end < 0 ? text.length : end)) : 'unknown status'})`);
    void b.worker.terminate();
    bridge = null;
    return null;
  }
  return new Float64Array(sab, at, outLength);
}

/** A (m×k) · B (k×n) on onnxruntime with operands written by `fillA`/`fillB`, or null. */
export function ortMatmulWith(
  m: number, k: number, n: number,
  fillA: (dst: Float64Array) => void,
  fillB: (dst: Float64Array) => void,
): Float64Array | null {
  return ortRun('matmul', [[m, k], [k, n]], [fillA, fillB], m * n);
}

/** ortMatmulWith's product as a view of the shared buffer, valid only until the next call into this module. */
export function ortMatmulView(
  m: number, k: number, n: number,
  fillA: (dst: Float64Array) => void,
  fillB: (dst: Float64Array) => void,
): Float64Array | null {
  return ortRunView('matmul', [[m, k], [k, n]], [fillA, fillB], m * n);
}

/** A (m×k) · B (k×n) on onnxruntime, or null when it is unavailable. */
export function ortMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array | null {
  return ortMatmulWith(m, k, n, (d) => d.set(a.subarray(0, m * k)), (d) => d.set(b.subarray(0, k * n)));
}

/** Y − V (T (Vᵀ Y)) for V (l×b), T (b×b), Y (l×c): reflections in compact WY form, as a view valid until the next call; null when unavailable. */
export function ortApplyWy(v: Float64Array, t: Float64Array, y: Float64Array, l: number, b: number, c: number): Float64Array | null {
  return ortRunView('wy', [[l, b], [b, b], [l, c]], [(d) => d.set(v.subarray(0, l * b)), (d) => d.set(t.subarray(0, b * b)), (d) => d.set(y.subarray(0, l * c))], l * c);
}
