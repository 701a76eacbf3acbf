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
import { keepOnnxRuntimeQuiet } from '../../onnx/telemetry.js';
import {
  DIMS, DONE, elements, FAILED, HEADER_BYTES, INPUTS, JOB, MAX_INPUTS, MESSAGE_AT, OP, OPS, OUT_LENGTH, PENDING, READY, RETIRED, STATUS, type Op,
} from './ort-gemm-protocol.js';

/**
 * Products with fewer multiply-adds than this run in JS: below it a round trip through the worker
 * (~0.1 ms) costs more than dense.ts' JS kernel (~1–2 GFMA/s).
 */
export const ORT_MIN_FMAS = 1 << 18;

/** Column blocks of the Gram product (ortGram): 10 of 16 block products instead of 16. */
const GRAM_PARTS = 4;

/** How long a starting worker may take to load onnxruntime before JS is used instead. */
const START_TIMEOUT_MS = 30_000;

interface Bridge {
  readonly worker: Worker;
  /** The job buffer the worker serves (null until the first job). */
  sab: SharedArrayBuffer | null;
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

/** FUSION_BENCH_ORT_GEMM_THREADS as a thread count, 0 when unset or not a positive number. */
export function envOrtGemmThreads(): number {
  return Math.max(0, Math.trunc(Number(process.env.FUSION_BENCH_ORT_GEMM_THREADS)) || 0);
}
let offReason: string | null = process.env.FUSION_BENCH_ORT_GEMM === '0' ? 'FUSION_BENCH_ORT_GEMM=0' : null;

/** The graphs the worker runs; inputs x0, x1, … and output y, all float64 with symbolic dimensions. */
function models(): Record<Op, Uint8Array> {
  const D = DataType.DOUBLE;
  // y = x0 · x1
  const mm = new GraphBuilder('matmul_f64');
  const a = mm.input('x0', D, ['m', 'k']);
  const b = mm.input('x1', D, ['k', 'n']);
  mm.output(mm.node('MatMul', [a, b]), 'y', D, ['m', 'n']);
  // y = x0ᵀ · x1: operands stored as rows (the tridiagonalisation's trailing update [V W]·[W V]ᵀ)
  const tmm = new GraphBuilder('tmatmul_f64');
  const p = tmm.input('x0', D, ['k', 'm']);
  const q = tmm.input('x1', D, ['k', 'n']);
  tmm.output(tmm.node('MatMul', [tmm.node('Transpose', [p], { perm: [1, 0] }), q]), 'y', D, ['m', 'n']);
  // y = x0 · x1ᵀ
  const mmt = new GraphBuilder('matmult_f64');
  const r = mmt.input('x0', D, ['m', 'k']);
  const u = mmt.input('x1', D, ['n', 'k']);
  mmt.output(mmt.node('MatMul', [r, mmt.node('Transpose', [u], { perm: [1, 0] })]), 'y', D, ['m', 'n']);
  // Gram matrices by blocks: AᵀA of A = [x0 x1 … x_{p−1}] (column blocks, `gram`) and AAᵀ of A stacked
  // from row blocks x0, x1, … (`gramt`): each block product on or below the diagonal once, those above it
  // as their transposes — (p + 1)/2p of the full product's multiply-adds
  const blockGram = (name: string, rowBlocks: boolean): Uint8Array => {
    const gr = new GraphBuilder(name);
    const parts = Array.from({ length: GRAM_PARTS }, (_, i) => gr.input(`x${i}`, D, rowBlocks ? [`m${i}`, 'n'] : ['m', `n${i}`]));
    const lower = new Map<string, string>();
    const block = (i: number, j: number): string => {
      const [hi, lo] = [Math.max(i, j), Math.min(i, j)];
      const key = `${hi},${lo}`;
      if (!lower.has(key)) lower.set(key, gr.node('Gemm', [parts[hi]!, parts[lo]!], rowBlocks ? { transB: 1 } : { transA: 1 }));
      return i >= j ? lower.get(key)! : gr.node('Transpose', [lower.get(key)!], { perm: [1, 0] });
    };
    const rowsOfBlocks = parts.map((_, i) => gr.node('Concat', parts.map((__, j) => block(i, j)), { axis: 1 }));
    gr.output(gr.node('Concat', rowsOfBlocks, { axis: 0 }), 'y', D, ['g', 'g']);
    return gr.build({ opset: 17 });
  };
  // y = x2 − ((x2 x0ᵀ) x1ᵀ) x0: eigenvectors stored as rows (x2 = Yᵀ) times a block of Householder
  // reflections I − V T Vᵀ, transposed, with V given as its columns x0 = Vᵀ
  const wy = new GraphBuilder('wyr_f64');
  const vt = wy.input('x0', D, ['b', 'l']);
  const t = wy.input('x1', D, ['b', 'b']);
  const y = wy.input('x2', D, ['c', 'l']);
  const z = wy.node('Gemm', [wy.node('Gemm', [y, vt], { transB: 1 }), t], { transB: 1 });
  wy.output(wy.node('Sub', [y, wy.node('MatMul', [z, vt])]), 'y', D, ['c', 'l']);
  return {
    matmul: mm.build({ opset: 17 }), tmatmul: tmm.build({ opset: 17 }), matmult: mmt.build({ opset: 17 }),
    gram: blockGram('gram_f64', false), gramt: blockGram('gramt_f64', true), wyr: wy.build({ opset: 17 }),
  };
}

function start(): Bridge | null {
  if (offReason !== null) return null;
  if (bridge !== null) return bridge;
  const ready = new SharedArrayBuffer(512); // status word, then a failure message
  const flag = new Int32Array(ready);
  let worker: Worker;
  keepOnnxRuntimeQuiet(); // the worker's sessions read the process's environment, not its own copy
  try {
    worker = new Worker(new URL('./ort-gemm-worker.js', import.meta.url), {
      workerData: { ready, threads: threadsWanted || envOrtGemmThreads() || availableParallelism(), models: models() },
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
  bridge = { worker, sab: null };
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
function ortRun(op: Op, dims: readonly (readonly number[])[], fills: readonly ((dst: Float64Array) => void)[], outLength: number): Float64Array | null {
  return ortRunView(op, dims, fills, outLength)?.slice() ?? null;
}

/** ortRun's result in the shared buffer itself: valid only until the next call (no copy, no garbage). */
function ortRunView(op: Op, dims: readonly (readonly number[])[], fills: readonly ((dst: Float64Array) => void)[], outLength: number): Float64Array | null {
  if (dims.length > MAX_INPUTS) throw new Error(`ort-gemm: ${dims.length} inputs, at most ${MAX_INPUTS}`);
  const b = start();
  if (b === null) return null;
  let bytes = HEADER_BYTES + 8 * outLength;
  for (const d of dims) bytes += 8 * elements(d);
  if (b.sab === null || b.sab.byteLength < bytes) {
    // a larger buffer: the worker leaves the old one's job word and serves the new one's
    if (b.sab !== null) {
      const old = new Int32Array(b.sab, 0, HEADER_BYTES / 4);
      Atomics.store(old, JOB, RETIRED);
      Atomics.notify(old, JOB);
    }
    b.sab = new SharedArrayBuffer(bytes);
    b.worker.postMessage({ sab: b.sab });
  }
  const sab = b.sab;
  const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
  let at = HEADER_BYTES;
  dims.forEach((d, i) => {
    const len = elements(d);
    fills[i]!(new Float64Array(sab, at, len));
    ctl[DIMS + 2 * i] = d[0]!;
    ctl[DIMS + 2 * i + 1] = d[1]!;
    at += 8 * len;
  });
  ctl[OP] = OPS.indexOf(op);
  ctl[INPUTS] = dims.length;
  ctl[OUT_LENGTH] = outLength;
  Atomics.store(ctl, STATUS, PENDING);
  Atomics.add(ctl, JOB, 1);
  Atomics.notify(ctl, JOB);
  // Bounded waits that ring again: on Node 20 an Atomics.wait was seen to miss a notify that came just
  // before it (src/tensor/io/read-helper-protocol.ts); a worker that missed its wake-up must not hang us.
  while (Atomics.load(ctl, STATUS) === PENDING) if (Atomics.wait(ctl, STATUS, PENDING, 50) === 'timed-out') Atomics.notify(ctl, JOB);
  if (Atomics.load(ctl, STATUS) !== DONE) {
    const text = new Uint8Array(sab, MESSAGE_AT, HEADER_BYTES - MESSAGE_AT);
    const end = text.indexOf(0);
    turnOff(`onnxruntime ${op} failed (${Atomics.load(ctl, STATUS) === FAILED ? new TextDecoder().decode(text.slice(0, end < 0 ? text.length : end)) : 'unknown status'})`);
    void b.worker.terminate();
    bridge = null;
    return null;
  }
  return new Float64Array(sab, at, outLength);
}

/** Xᵀ Y for X (k×m), Y (k×n) written by `fillX`/`fillY`, as a view of the shared buffer valid only until the next call into this module; null when unavailable. */
export function ortMatmulTView(
  k: number, m: number, n: number,
  fillX: (dst: Float64Array) => void,
  fillY: (dst: Float64Array) => void,
): Float64Array | null {
  return ortRunView('tmatmul', [[k, m], [k, n]], [fillX, fillY], m * n);
}

/** A (m×k) · Bᵀ for B (n×k) on onnxruntime, or null when it is unavailable. */
export function ortMatmulT(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array | null {
  return ortRun('matmult', [[m, k], [n, k]], [(d) => d.set(a.subarray(0, m * k)), (d) => d.set(b.subarray(0, n * k))], m * n);
}

/** AᵀA (n×n) of an m×n matrix on onnxruntime, or null when it is unavailable. */
export function ortGram(a: Float64Array, m: number, n: number): Float64Array | null {
  if (n < GRAM_PARTS) return null;
  const at = blockBounds(n);
  const fill = (i: number) => (d: Float64Array) => {
    const w = at[i + 1]! - at[i]!;
    for (let r = 0; r < m; r++) d.set(a.subarray(r * n + at[i]!, r * n + at[i + 1]!), r * w);
  };
  return ortRun('gram', at.slice(1).map((e, i) => [m, e - at[i]!]), at.slice(1).map((_, i) => fill(i)), n * n);
}

/** AAᵀ (m×m) of an m×n matrix on onnxruntime, or null when it is unavailable. */
export function ortGramT(a: Float64Array, m: number, n: number): Float64Array | null {
  if (m < GRAM_PARTS) return null;
  const at = blockBounds(m);
  const fill = (i: number) => (d: Float64Array) => d.set(a.subarray(at[i]! * n, at[i + 1]! * n));
  return ortRun('gramt', at.slice(1).map((e, i) => [e - at[i]!, n]), at.slice(1).map((_, i) => fill(i)), m * m);
}

/** Where the Gram products' GRAM_PARTS blocks of n rows or columns start (and n). */
function blockBounds(n: number): number[] {
  return Array.from({ length: GRAM_PARTS + 1 }, (_, i) => Math.round((i * n) / GRAM_PARTS));
}

/** A (m×k) · B (k×n) on onnxruntime, or null when it is unavailable. */
export function ortMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array | null {
  return ortRun('matmul', [[m, k], [k, n]], [(d) => d.set(a.subarray(0, m * k)), (d) => d.set(b.subarray(0, k * n))], m * n);
}

/**
 * Y − ((Y V) Tᵀ) Vᵀ for Y (c×l) written by `fillY`, V (l×b) given as Vᵀ (b×l) by `fillVt`, T (b×b): a
 * block of reflections I − V T Vᵀ applied to vectors stored as rows, as a view valid until the next call;
 * null when unavailable.
 */
export function ortApplyWyRows(fillVt: (dst: Float64Array) => void, t: Float64Array, fillY: (dst: Float64Array) => void, l: number, b: number, c: number): Float64Array | null {
  return ortRunView('wyr', [[b, l], [b, b], [c, l]], [fillVt, (d) => d.set(t.subarray(0, b * b)), fillY], c * l);
}
