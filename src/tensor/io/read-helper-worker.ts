/**
 * A ReadHelper's thread (read-helper.ts): takes jobs from the shared table until none is left — file
 * reads, or pieces of a task-vector sum that it reads and sums itself with its own instance of the merge
 * kernels over the same memory — then polls briefly and sleeps until the next batch. It imports nothing
 * of the library but the kernels' bytes, so it starts in milliseconds.
 */
import { readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { F32_KERNELS_WASM } from '../kernels/f32-kernels-wasm.js';
import { GEN, helperPieces, IDLE_WAIT_MS, KIND, RAN, READ, readJob, runJobs, SPIN_MS, STOP, sumJob, views, type SharedBuffers, type SumKernels } from './read-helper-protocol.js';

// The part of the WebAssembly global used here (the project's lib settings do not declare it).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(m: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}

const shared = workerData as SharedBuffers;
const s = views(shared);
const kernels = shared.memory === null ? null : (new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(F32_KERNELS_WASM, 'base64')), { env: { memory: shared.memory } }).exports as unknown as SumKernels);

let seen = Atomics.load(s.ctl, GEN);
for (;;) {
  let g = Atomics.load(s.ctl, GEN);
  if (g === seen) {
    const until = performance.now() + SPIN_MS;
    while ((g = Atomics.load(s.ctl, GEN)) === seen && performance.now() < until);
    // A missed wake-up only costs parallelism: the merging thread runs every job nobody took.
    while (g === seen && Atomics.load(s.ctl, STOP) === 0) {
      Atomics.wait(s.ctl, GEN, seen, IDLE_WAIT_MS);
      g = Atomics.load(s.ctl, GEN);
    }
  }
  if (Atomics.load(s.ctl, STOP) !== 0) break;
  seen = g;
  if (Atomics.load(s.ctl, KIND) === READ) Atomics.add(s.ctl, RAN, runJobs(s, g, (j) => readJob(s, readSync, j)));
  else if (kernels !== null) {
    const pieces = helperPieces(s);
    Atomics.add(s.ctl, RAN, runJobs(s, g, (j) => sumJob(s, readSync, kernels, pieces, j)));
  }
}
