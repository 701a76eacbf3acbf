/**
 * A worker of the SVD pool (svd-pool.ts): takes jobs of each batch it is sent, by compare-and-exchange
 * on their status words, runs them with the caller's own code (svd-pool-jobs.ts) and hands each result
 * back on its port — the arrays transferred, not copied — before marking the job DONE. The caller is
 * blocked on Atomics.wait, so everything it must know travels through shared memory: a failed job is
 * marked FAILED, and a worker that exits marks the job it held FAILED and itself GONE on the way out.
 */
import { workerData, parentPort } from 'node:worker_threads';
import { setOrtGemmThreads } from './ort-gemm.js';
import { runJob, type PoolResult } from './svd-pool-jobs.js';
import { DONE, FAILED, FREE, GONE, READY, WORKER, type Batch, type ResultMessage, type WorkerData } from './svd-pool-protocol.js';

const { alive, port, gemmThreads } = workerData as WorkerData;
setOrtGemmThreads(gemmThreads);
let holding: { status: Int32Array; job: number } | null = null;

function mark(status: Int32Array, job: number, value: number): void {
  Atomics.store(status, job, value);
  Atomics.notify(status, job);
}

process.on('exit', () => {
  if (holding !== null) mark(holding.status, holding.job, FAILED);
  Atomics.store(alive, 0, GONE);
  Atomics.notify(alive, 0);
});

function buffersOf(r: PoolResult): ArrayBuffer[] {
  const arrays = r instanceof Float64Array ? [r] : [r.u, r.s, r.vt];
  return [...new Set(arrays.map((a) => a.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

function runBatch(batch: Batch): void {
  const { status, jobs } = batch;
  for (let j = 0; j < jobs.length; j++) {
    if (Atomics.compareExchange(status, j, FREE, WORKER) !== FREE) continue;
    holding = { status, job: j };
    if (batch.fault === 'exit') process.exit(70);
    if (batch.fault === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    let msg: ResultMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      const result = runJob(jobs[j]!);
      msg = { batch: batch.id, job: j, result };
      transfer = buffersOf(result);
    } catch (e) {
      msg = { batch: batch.id, job: j, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(msg, transfer);
    holding = null;
    mark(status, j, msg.error === undefined ? DONE : FAILED);
  }
}

// Warm up before taking jobs (JIT, and the GEMM bridge of this thread, which loads onnxruntime): the
// caller never waits for a job a worker has not taken, so a worker still starting costs nothing.
runJob({ kind: 'polar', a: Float64Array.from({ length: 160 * 160 }, (_, i) => Math.sin(i)), m: 160, n: 160 });
Atomics.store(alive, 0, READY);
parentPort!.on('message', runBatch);
