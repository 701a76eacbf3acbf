/**
 * The worker behind ort-gemm.ts: runs small float64 graphs (matrix products) on onnxruntime for a caller
 * that blocks on Atomics.wait. Jobs arrive through the control words of a SharedArrayBuffer (layout in
 * ort-gemm-protocol.ts), which this worker waits on with Atomics.waitAsync; onnxruntime does not take
 * shared memory as tensor data, so operands are copied out and the result copied back. Every failure is
 * reported through the shared status word: the caller's event loop is blocked, so an 'error' event would
 * never reach it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as OrtModule from 'onnxruntime-node';
import {
  DIMS, DONE, FAILED, HEADER_BYTES, INPUTS, JOB, MESSAGE_AT, OP, OPS, OUT_LENGTH, READY, RETIRED, STATUS, type BufferMessage,
} from './ort-gemm-protocol.js';

type Ort = typeof OrtModule;

const { ready, threads, models } = workerData as { ready: SharedArrayBuffer; threads: number; models: Record<string, Uint8Array> };
/** Atomics.waitAsync (Node ≥ 16; the project's `lib` settings do not declare it). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;
const sessions = new Map<string, Promise<OrtModule.InferenceSession>>();

function report(sab: SharedArrayBuffer, status: number, message = ''): void {
  if (message !== '') {
    const text = new Uint8Array(sab, MESSAGE_AT, HEADER_BYTES - MESSAGE_AT);
    text.fill(0);
    text.set(new TextEncoder().encode(message.slice(0, 400)).subarray(0, text.length - 1));
  }
  const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
  Atomics.store(ctl, STATUS, status);
  Atomics.notify(ctl, STATUS);
}

async function run(ort: Ort, sab: SharedArrayBuffer): Promise<void> {
  const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const op = OPS[ctl[OP]!] ?? `#${ctl[OP]}`;
  try {
    let session = sessions.get(op);
    if (session === undefined) {
      // No spinning: between products the caller's thread computes (the tridiagonalisation's columns,
      // inverse iteration), and a pool thread spinning for work beside it takes the other core — the
      // whole SVD ran ~1.5–2.5× slower on 2 cores with onnxruntime's default. No arena: one per session,
      // each keeping its largest products' memory for the life of the process (~60–70 MB of peak RSS in
      // a 1-layer Iso-CTS, bench/svd), where malloc gives large blocks back.
      session = ort.InferenceSession.create(models[op]!, {
        intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', enableCpuMemArena: false, enableMemPattern: false,
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      sessions.set(op, session);
    }
    const feeds: Record<string, OrtModule.Tensor> = {};
    let at = HEADER_BYTES;
    for (let i = 0; i < ctl[INPUTS]!; i++) {
      const dims = [ctl[DIMS + 2 * i]!, ctl[DIMS + 2 * i + 1]!];
      const len = dims[0]! * dims[1]!;
      feeds[`x${i}`] = new ort.Tensor('float64', new Float64Array(sab, at, len).slice(), dims);
      at += 8 * len;
    }
    const outLength = ctl[OUT_LENGTH]!;
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

/** Runs the jobs posted through `sab`'s job word until the caller retires the buffer. */
async function serve(ort: Ort, sab: SharedArrayBuffer): Promise<void> {
  const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
  let seen = 0;
  for (;;) {
    const w = waitAsync(ctl, JOB, seen);
    if (w.async) await w.value;
    const job = Atomics.load(ctl, JOB);
    if (job === RETIRED) return;
    if (job === seen) continue;
    seen = job;
    await run(ort, sab);
  }
}

const flag = new Int32Array(ready);
try {
  // loaded here, not by a static import, so that a failure is told to the waiting caller at once
  const { ort }: { ort: Ort } = await import('../../onnx/runtime.js');
  // the port's listener also keeps this thread alive between jobs
  parentPort!.on('message', (m: BufferMessage) => void serve(ort, m.sab));
  Atomics.store(flag, 0, READY);
} catch (e) {
  const text = new Uint8Array(ready, 8);
  text.set(new TextEncoder().encode(e instanceof Error ? e.message : String(e)).subarray(0, text.length - 1));
  Atomics.store(flag, 0, FAILED);
}
Atomics.notify(flag, 0);
