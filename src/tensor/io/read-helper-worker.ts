/**
 * A ReadHelper's thread (read-helper.ts): takes jobs from the shared table until none is left — file
 * reads, or pieces of a task-vector sum that it reads and sums itself with its own instance of the merge
 * kernels over the same memory — then polls briefly and sleeps until the next batch. It imports nothing
 * of the library but the kernels' bytes, so it starts in milliseconds.
 */
import { readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { F32_KERNELS_WASM } from '../kernels/f32-kernels-wasm.js';
import {
  BELL, GEN, helperPieces, IDLE_WAIT_MS, KIND, POSTED, RAN, READ, readJob, runJobs, SPIN_MS, STOP, sumJob, TAKEN, views, WRITE_FAILED, writeJob, WRITTEN, WSTATE,
  type SharedBuffers, type SumKernels,
} from './read-helper-protocol.js';

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

/** Takes and runs the posted write, if one is waiting (the merging thread may take it back first). */
function write(): void {
  if (Atomics.compareExchange(s.ctl, WSTATE, POSTED, TAKEN) !== POSTED) return;
  let ok = false;
  try {
    writeJob(s);
    ok = true;
  } catch {
    ok = false; // the merging thread writes it again and reports the error in its own words
  }
  Atomics.add(s.ctl, RAN, 1);
  Atomics.store(s.ctl, WSTATE, ok ? WRITTEN : WRITE_FAILED);
  Atomics.notify(s.ctl, WSTATE);
}

let seenGen = Atomics.load(s.ctl, GEN);
// one below the bell: the first pass looks for work posted before this thread started
let rang = Atomics.load(s.ctl, BELL) - 1;
for (;;) {
  let bell = Atomics.load(s.ctl, BELL);
  if (bell === rang) {
    const until = performance.now() + SPIN_MS;
    while ((bell = Atomics.load(s.ctl, BELL)) === rang && performance.now() < until);
    // A missed wake-up only costs parallelism: the merging thread runs every job nobody took.
    while (bell === rang && Atomics.load(s.ctl, STOP) === 0) {
      Atomics.wait(s.ctl, BELL, rang, IDLE_WAIT_MS);
      bell = Atomics.load(s.ctl, BELL);
    }
  }
  if (Atomics.load(s.ctl, STOP) !== 0) break;
  rang = bell;
  write();
  const g = Atomics.load(s.ctl, GEN);
  if (g === seenGen) continue;
  seenGen = g;
  if (Atomics.load(s.ctl, KIND) === READ) Atomics.add(s.ctl, RAN, runJobs(s, g, (j) => readJob(s, readSync, j)));
  else if (kernels !== null) {
    const pieces = helperPieces(s);
    Atomics.add(s.ctl, RAN, runJobs(s, g, (j) => sumJob(s, readSync, kernels, pieces, j)));
  }
  write(); // one posted while the batch ran
}
