/**
 * The worker behind ort-gemm.ts: runs small float64 graphs (matrix products) on onnxruntime for a caller
 * that blocks on Atomics.wait. Operands arrive in a SharedArrayBuffer (layout in ort-gemm-protocol.ts);
 * onnxruntime does not take shared memory as tensor data, so they are copied out and the result copied
 * back. Every failure is reported through the shared status word: the caller's event loop is blocked,
 * so an 'error' event would never reach it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as OrtModule from 'onnxruntime-node';
import { DONE, elements, FAILED, HEADER_BYTES, READY, type GemmJob } from './ort-gemm-protocol.js';

type Ort = typeof OrtModule;

const { ready, threads, models } = workerData as { ready: SharedArrayBuffer; threads: number; models: Record<string, Uint8Array> };
const sessions = new Map<string, Promise<OrtModule.InferenceSession>>();

function report(sab: SharedArrayBuffer, status: number, message = ''): void {
  if (message !== '') {
    const text = new Uint8Array(sab, 8, HEADER_BYTES - 8);
    text.fill(0);
    text.set(new TextEncoder().encode(message.slice(0, 400)).subarray(0, text.length - 1));
  }
  const ctl = new Int32Array(sab, 0, 2);
  Atomics.store(ctl, 0, status);
  Atomics.notify(ctl, 0);
}

async function run(ort: Ort, job: GemmJob): Promise<void> {
  const { sab, op, dims, outLength } = job;
  try {
    let session = sessions.get(op);
    if (session === undefined) {
      session = ort.InferenceSession.create(models[op]!, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
      sessions.set(op, session);
    }
    const feeds: Record<string, OrtModule.Tensor> = {};
    let at = HEADER_BYTES;
    dims.forEach((d, i) => {
      const len = elements(d);
      feeds[`x${i}`] = new ort.Tensor('float64', new Float64Array(sab, at, len).slice(), d);
      at += 8 * len;
    });
    const r = await (await session).run(feeds);
    const y = r.y!;
    if (y.data.length !== outLength) throw new Error(`graph ${op} gave ${y.data.length} values, expected ${outLength}`);
    new Float64Array(sab, at, outLength).set(y.data as Float64Array);
    y.dispose();
    report(sab, DONE);
  } catch (e) {
    report(sab, FAILED, e instanceof Error ? e.message : String(e));
  }
}

const flag = new Int32Array(ready);
try {
  // loaded here, not by a static import, so that a failure is told to the waiting caller at once
  const ort: Ort = await import('onnxruntime-node');
  parentPort!.on('message', (job: GemmJob) => void run(ort, job));
  Atomics.store(flag, 0, READY);
} catch (e) {
  const text = new Uint8Array(ready, 8);
  text.set(new TextEncoder().encode(e instanceof Error ? e.message : String(e)).subarray(0, text.length - 1));
  Atomics.store(flag, 0, FAILED);
}
Atomics.notify(flag, 0);
