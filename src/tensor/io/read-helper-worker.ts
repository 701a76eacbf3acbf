/**
 * A ReadHelper's thread (read-helper.ts): takes read jobs from the shared table until none is left,
 * then polls briefly and sleeps until the next batch. It imports nothing of the library, so it starts
 * in milliseconds.
 */
import { readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { GEN, IDLE_WAIT_MS, RAN, readFully, runJobs, SPIN_MS, STOP, views, type SharedBuffers } from './read-helper-protocol.js';

const s = views(workerData as SharedBuffers);
const read = (fd: number, into: Uint8Array, position: number) => readFully(readSync, fd, into, position);

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
  Atomics.add(s.ctl, RAN, runJobs(s, g, read));
}
