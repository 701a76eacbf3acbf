/**
 * The worker behind ort-gemm.ts: runs float64 MatMul on onnxruntime for a caller that blocks on
 * Atomics.wait. Operands arrive in a SharedArrayBuffer (layout in ort-gemm.ts); onnxruntime does not take
 * shared memory as tensor data, so they are copied out and the product copied back. Every failure is
 * reported through the shared status word: the caller's event loop is blocked, so an 'error' event would
 * never reach it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { DONE, FAILED, HEADER_BYTES, READY, type GemmJob } from './ort-gemm-protocol.js';

const { ready, threads, model } = workerData as { ready: SharedArrayBuffer; threads: number; model: Uint8Array };
let session: Promise<ort.InferenceSession> | null = null;

function report(ctl: Int32Array, sab: SharedArrayBuffer, status: number, message = ''): void {
  if (message !== '') {
    const bytes = new TextEncoder().encode(message.slice(0, 400));
    const text = new Uint8Array(sab, 8, HEADER_BYTES - 8);
    text.fill(0);
    text.set(bytes.subarray(0, text.length - 1));
  }
  Atomics.store(ctl, 0, status);
  Atomics.notify(ctl, 0);
}

async function run(job: GemmJob): Promise<void> {
  const { sab, m, k, n } = job;
  const ctl = new Int32Array(sab, 0, 2);
  try {
    session ??= ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
    const s = await session;
    const a = new Float64Array(sab, HEADER_BYTES, m * k).slice();
    const b = new Float64Array(sab, HEADER_BYTES + 8 * m * k, k * n).slice();
    const r = await s.run({ a: new ort.Tensor('float64', a, [m, k]), b: new ort.Tensor('float64', b, [k, n]) });
    new Float64Array(sab, HEADER_BYTES + 8 * (m * k + k * n), m * n).set(r.c!.data as Float64Array);
    r.c!.dispose();
    report(ctl, sab, DONE);
  } catch (e) {
    report(ctl, sab, FAILED, e instanceof Error ? e.message : String(e));
  }
}

parentPort!.on('message', (job: GemmJob) => void run(job));
const flag = new Int32Array(ready);
Atomics.store(flag, 0, READY);
Atomics.notify(flag, 0);
