/**
 * Independent SVDs of one merge step (TSV-M's and Iso-CTS's per-task SVDs, and the two polar factors
 * after them) on several cores. Most of an SVD here is single-threaded (the Householder panels in
 * WebAssembly, the tridiagonal solve; only large products go to onnxruntime), so a sequential
 * loop leaves the other cores idle; the merge kernels are synchronous (tensor-merge.ts' `combine`), so
 * the pool is too: the caller posts a batch, runs jobs itself, and blocks on Atomics.wait for the jobs
 * a worker took.
 *
 * - Jobs are claimed by compare-and-exchange on per-job status words, by the caller and the workers
 *   alike, so a worker that is busy, still starting or gone simply takes none; the caller never waits
 *   for a job nobody took.
 * - Inputs live in SharedArrayBuffers (`sharedF32`/`sharedF64`; other arrays are copied there), results
 *   come back transferred on a MessagePort read synchronously (receiveMessageOnPort).
 * - Every thread runs the same code (svd-pool-jobs.ts) on the same bytes; the GEMM bridges all use one
 *   thread count (see `gemmThreads`), so results are bit-identical to the sequential path.
 * - A worker that fails a job, exits (it marks its job FAILED on the way out), or does not finish a job
 *   within max(WAIT_FLOOR_MS, 4× the caller's slowest job of the batch) has the job recomputed here
 *   (same bits either way), and the pool is switched off for the rest of the process with a warning.
 *
 * Threads: FUSION_BENCH_SVD_THREADS (caller included; default min(cores, 4); 1 = no workers).
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { ThinSvd } from './dense.js';
import { keepOnnxRuntimeQuiet } from '../../onnx/telemetry.js';
import { envOrtGemmThreads, setOrtGemmThreads } from './ort-gemm.js';
import { runJob, type PolarJob, type PoolJob, type PoolResult, type SvdJob } from './svd-pool-jobs.js';
import { CALLER, DONE, FAILED, FREE, GONE, STARTING, WORKER, type Batch, type Fault, type ResultMessage } from './svd-pool-protocol.js';

/** How long the caller waits at least for a job a worker took before running it itself. */
const WAIT_FLOOR_MS = 10_000;
const DEFAULT_MAX_THREADS = 4;

interface PoolWorker {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly alive: Int32Array;
}

interface PoolOptions {
  threads: number;
  waitFloorMs: number;
  /** Tests: the caller runs only jobs no worker could finish, so that the workers' part is known. */
  workersOnly: boolean;
}

let options: PoolOptions = {
  threads: envThreads() ?? Math.min(availableParallelism(), DEFAULT_MAX_THREADS),
  waitFloorMs: WAIT_FLOOR_MS,
  workersOnly: false,
};
/** Jobs whose result came from a worker, since the process started. */
let workerJobs = 0;
let workers: PoolWorker[] | null = null;
let offReason: string | null = null;
let nextBatch = 0;
let nextFault: Fault | undefined;
/** Results that arrived for jobs other than the one being looked for, by batch and job. */
const early = new Map<string, PoolResult | string>();

function envThreads(): number | null {
  const v = process.env.FUSION_BENCH_SVD_THREADS;
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? n : null;
}

/**
 * The onnxruntime threads of each thread's GEMM bridge (ort-gemm.ts) while the pool is in use: the
 * cores shared out, at least one (FUSION_BENCH_ORT_GEMM_THREADS overrides). More oversubscribes the
 * cores, and onnxruntime's idle threads spin: measured on 2 cores, 2 threads per bridge cost ~20 CPU-s
 * more per 1-layer TSV-M and ran slower (bench/svd). The products' bits do not depend on the count
 * (MLAS splits a product's rows and columns between threads, not its sums; the pool's tests compare
 * the worker's results with this thread's).
 */
export function gemmThreads(): number {
  return envOrtGemmThreads() || Math.max(1, Math.floor(availableParallelism() / Math.max(1, options.threads)));
}

/** Shared float32 memory of `length` values (zeros). */
export function sharedF32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * length));
}

/** Shared float64 memory of `length` values (zeros). */
export function sharedF64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8 * length));
}

function isShared(a: Float32Array | Float64Array): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

function shareF32(a: Float32Array): Float32Array {
  if (isShared(a)) return a;
  const s = sharedF32(a.length);
  s.set(a);
  return s;
}

function shareF64(a: Float64Array): Float64Array {
  if (isShared(a)) return a;
  const s = sharedF64(a.length);
  s.set(a);
  return s;
}

/** Why the pool is not used ('' while it is, or has not been needed yet). */
export function svdPoolStatus(): string {
  return offReason ?? (options.threads <= 1 ? 'FUSION_BENCH_SVD_THREADS=1' : '');
}

/** Turns the pool off for the rest of the process, saying why once (the SVDs get slower, not wrong). */
function turnOff(reason: string): void {
  if (offReason !== null) return;
  offReason = reason;
  const ws = workers ?? [];
  workers = null;
  for (const w of ws) terminateStarted(w);
  process.emitWarning(`${reason}; the SVDs run on the calling thread only (slower)`, { code: 'FUSION_BENCH_SVD_POOL' });
}

/** How long terminating a worker waits for it to finish starting (it loads onnxruntime meanwhile). */
const START_WAIT_MS = 60_000;

/**
 * Terminates a worker once it is past its start: a worker terminated while its GEMM bridge is still
 * loading onnxruntime and creating its sessions takes the whole process down with it (onnxruntime-node
 * throws a Napi::Error out of the torn-down environment: "terminate called after throwing an instance
 * of 'Napi::Error'", SIGABRT — 1 run in 4 of the pool's tests before this wait).
 */
function terminateStarted(w: PoolWorker): void {
  waitStarted(w);
  void w.worker.terminate();
}

/** Blocks until the worker has warmed up (or exited), at most START_WAIT_MS. */
function waitStarted(w: PoolWorker): void {
  const deadline = Date.now() + START_WAIT_MS;
  while (Atomics.load(w.alive, 0) === STARTING && Date.now() < deadline) Atomics.wait(w.alive, 0, STARTING, 100);
}

function start(): PoolWorker[] | null {
  if (offReason !== null || options.threads <= 1) return null;
  if (workers !== null) return workers;
  // this thread's bridge gets the shared-out count too, if it has not started yet
  setOrtGemmThreads(gemmThreads());
  keepOnnxRuntimeQuiet(); // before the threads whose GEMM workers create sessions
  const started: PoolWorker[] = [];
  try {
    for (let i = 1; i < options.threads; i++) {
      const alive = new Int32Array(new SharedArrayBuffer(4));
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./svd-pool-worker.js', import.meta.url), {
        workerData: { alive, port: port2, gemmThreads: gemmThreads() },
        transferList: [port2],
        execArgv: [], // the parent's flags (--input-type, --eval, …) are not the worker's
      });
      worker.unref(); // an idle pool must not keep the process alive
      const pw = { worker, port: port1, alive };
      worker.on('error', (e) => turnOff(`an SVD pool worker failed (${e.message})`));
      worker.on('exit', (code) => { if (workers?.includes(pw)) turnOff(`an SVD pool worker exited (code ${code})`); });
      started.push(pw);
    }
  } catch (e) {
    for (const w of started) terminateStarted(w);
    turnOff(`the SVD pool did not start: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
  workers = started;
  return workers;
}

/** The result a worker posted for (batch, job), read synchronously from the workers' ports. */
function takeResult(ws: readonly PoolWorker[], batch: number, job: number): PoolResult | string | undefined {
  const key = `${batch}:${job}`;
  for (;;) {
    const got = early.get(key);
    if (got !== undefined) {
      early.delete(key);
      return got;
    }
    let any = false;
    for (const w of ws) {
      const m = receiveMessageOnPort(w.port);
      if (m === undefined) continue;
      any = true;
      const r = m.message as ResultMessage;
      if (r.batch === batch) early.set(`${r.batch}:${r.job}`, r.error ?? r.result!);
      // results of earlier batches (jobs recomputed here meanwhile) are dropped
    }
    if (!any) return undefined;
  }
}

/**
 * Runs `jobs` on the caller and the pool's workers; results in job order. Without workers (one thread,
 * or the pool off) the jobs run here one after the other — the same code, so the same bits.
 */
export function runJobs(jobs: readonly PoolJob[]): PoolResult[] {
  const ws = jobs.length > 1 ? start() : null;
  if (ws !== null && ws.some((w) => Atomics.load(w.alive, 0) === GONE)) turnOff('an SVD pool worker exited');
  if (ws === null || workers === null) return jobs.map(runJob);
  const shared = jobs.map((j): PoolJob => j.kind === 'polar'
    ? { ...j, a: shareF64(j.a) }
    : {
        ...j, a: shareF32(j.a),
        ...(j.project ? { project: { p: shareF64(j.project.p), c: j.project.c } } : {}),
        ...(j.basis ? { basis: { q: shareF64(j.basis.q), r: j.basis.r } } : {}),
      });
  const status = new Int32Array(new SharedArrayBuffer(4 * jobs.length));
  const batch: Batch = { id: nextBatch++, status, jobs: shared, ...(nextFault ? { fault: nextFault } : {}) };
  nextFault = undefined;
  for (const w of ws) w.worker.postMessage(batch);
  const results: (PoolResult | undefined)[] = new Array(jobs.length);
  let slowest = 0;
  const runHere = (j: number) => {
    const t0 = performance.now();
    results[j] = runJob(shared[j]!);
    slowest = Math.max(slowest, performance.now() - t0);
  };
  if (!options.workersOnly) for (let j = 0; j < jobs.length; j++) if (Atomics.compareExchange(status, j, FREE, CALLER) === FREE) runHere(j);
  for (let j = 0; j < jobs.length; j++) {
    if (results[j] !== undefined) continue;
    if (workers === null) { // switched off during this batch: no more waiting
      runHere(j);
      continue;
    }
    const deadline = performance.now() + Math.max(options.waitFloorMs, 4 * slowest);
    let s: number;
    while ((s = Atomics.load(status, j)) === WORKER || s === FREE) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(status, j, s, left);
    }
    const r = s === DONE || s === FAILED ? takeResult(ws, batch.id, j) : undefined;
    if (r !== undefined && typeof r !== 'string') {
      results[j] = r;
      workerJobs++;
      continue;
    }
    turnOff(s === WORKER || s === FREE
      ? `an SVD pool worker did not finish a job within ${Math.round(Math.max(options.waitFloorMs, 4 * slowest))} ms`
      : `an SVD pool worker failed a job (${typeof r === 'string' ? r : 'the worker exited'})`);
    runHere(j);
  }
  return results as PoolResult[];
}

/**
 * Thin SVDs of same-shaped float32 m×n matrices, keeping `keep` triplets each (svdThin's `keep`),
 * singular values at or below `zeroBelow[i]` counted as zero. With `project` (an m×c basis P with
 * orthonormal columns) matrix A is decomposed as A − P Pᵀ A; with `basis` (r×m orthonormal rows Q
 * spanning P's orthogonal complement) as the same matrix Qᵀ Q A (svd-pool-jobs.ts).
 */
export function svdThinAll(
  mats: readonly Float32Array[], m: number, n: number, keep: number,
  opts: { zeroBelow?: readonly number[]; project?: { p: Float64Array; c: number }; basis?: { q: Float64Array; r: number } } = {},
): ThinSvd[] {
  const jobs = mats.map((a, i): SvdJob => ({
    kind: 'svd', a, m, n, keep, zeroBelow: opts.zeroBelow?.[i] ?? 0,
    ...(opts.project ? { project: opts.project } : {}), ...(opts.basis ? { basis: opts.basis } : {}),
  }));
  return runJobs(jobs) as ThinSvd[];
}

/** The orthogonal polar factors (polarWithValues' `p`) of float64 matrices. */
export function polarAll(mats: readonly { a: Float64Array; m: number; n: number }[]): Float64Array[] {
  return runJobs(mats.map((x): PolarJob => ({ kind: 'polar', ...x }))) as Float64Array[];
}

/**
 * For tests and benchmarks: the pool's thread count and wait floor (the workers restart with them,
 * and a pool switched off by a failure comes back), and a fault injected into the next batch.
 */
export function configureSvdPool(o: Partial<PoolOptions> & { fault?: Fault }): void {
  const ws = workers ?? [];
  workers = null;
  for (const w of ws) terminateStarted(w);
  offReason = null;
  early.clear();
  options = { threads: o.threads ?? options.threads, waitFloorMs: o.waitFloorMs ?? options.waitFloorMs, workersOnly: o.workersOnly ?? options.workersOnly };
  nextFault = o.fault;
}

/** How many jobs' results came from the pool's workers so far. */
export function svdPoolStats(): { workerJobs: number } {
  return { workerJobs };
}

/**
 * The pool's workers, started if needed and past their start (tests terminate one to see the pool carry
 * on without it; see terminateStarted for why not earlier).
 */
export function svdPoolWorkers(): readonly Worker[] {
  const ws = start() ?? [];
  ws.forEach(waitStarted);
  return ws.map((w) => w.worker);
}
