/**
 * A second thread for a merge's file reads. The merging thread queues one piece of every input's tensor
 * (read-batch.ts), posts the reads as 1 MiB jobs in shared memory, and takes jobs itself while the
 * helper takes others: reading from the page cache is a copy the kernel makes on the reading thread,
 * and it is most of a streaming merge's time, so two readers halve it on two cores. Reads land straight
 * in the merge's arena (a shared WebAssembly memory), so nothing is copied twice.
 *
 * The merging thread never waits for the helper to start or wake: it runs every job nobody has taken,
 * and waits only for jobs the helper has already begun.
 */
import { readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { FileRead } from './read-batch.js';
import { CLAIM, COUNT, DONE, GEN, JOB_BYTES, MAX_JOBS, OK, RAN, readFully, runJobs, sharedControl, SPIN_MS, STOP, views, WAIT_MS, type Shared } from './read-helper-protocol.js';

/**
 * FUSION_BENCH_READ_THREADS: 1 keeps every read on the merging thread, 2 adds the helper to every merge
 * (tests use it on small models); unset, a merge adds it when its inputs are large enough to repay it.
 */
export function readThreads(): 1 | 2 | 'auto' {
  const v = process.env.FUSION_BENCH_READ_THREADS;
  return v === '1' ? 1 : v === '2' ? 2 : 'auto';
}

const readHere = (fd: number, into: Uint8Array, position: number) => readFully(readSync, fd, into, position);

export class ReadHelper {
  private readonly s: Shared;
  private readonly owner = new Int32Array(MAX_JOBS);
  private gen = 0;
  private worker: Worker | null;

  private constructor(private readonly data: SharedArrayBuffer) {
    const control = sharedControl();
    this.s = views({ control, data });
    this.worker = new Worker(new URL('./read-helper-worker.js', import.meta.url), { workerData: { control, data } });
    this.worker.unref();
    // A helper that fails to start or dies only leaves its jobs to the merging thread.
    this.worker.on('error', () => this.close());
  }

  /** A helper reading into `data`, or null where no thread can be started. */
  static start(data: SharedArrayBuffer): ReadHelper | null {
    try {
      return new ReadHelper(data);
    } catch {
      return null;
    }
  }

  /** Runs the reads (those into `data` on both threads, others here), then re-reads any that failed here. */
  readAll(reads: readonly FileRead[]): void {
    const { fd, length, pos, status } = this.s;
    const retry = new Set<FileRead>();
    let n = 0;
    const flush = () => {
      if (n === 0) return;
      this.post(n);
      for (let j = 0; j < n; j++) if (status[j] !== OK) retry.add(reads[this.owner[j]!]!);
      n = 0;
    };
    for (let i = 0; i < reads.length; i++) {
      const r = reads[i]!;
      if (this.worker === null || r.into.buffer !== this.data) {
        r.readHere();
        continue;
      }
      for (let off = 0; off < r.into.byteLength; off += JOB_BYTES) {
        if (n === MAX_JOBS) flush();
        fd[n] = r.fd;
        length[n] = Math.min(JOB_BYTES, r.into.byteLength - off);
        pos[2 * n] = r.position + off;
        pos[2 * n + 1] = r.into.byteOffset + off;
        status[n] = 0;
        this.owner[n] = i;
        n++;
      }
    }
    flush();
    for (const r of retry) r.readHere(); // the reader's own error (a truncated file), or a good second try
  }

  /** Jobs the helper thread has run so far. */
  get helperJobs(): number {
    return Atomics.load(this.s.ctl, RAN);
  }

  /** Stops the thread (idempotent); later reads all run on the merging thread. */
  close(): void {
    const w = this.worker;
    if (w === null) return;
    this.worker = null;
    Atomics.store(this.s.ctl, STOP, 1);
    Atomics.notify(this.s.ctl, GEN);
    void w.terminate();
  }

  /** Posts jobs 0 … n−1, runs jobs until none is left, and waits for those the helper took. */
  private post(n: number): void {
    const { ctl } = this.s;
    const gen = ++this.gen;
    Atomics.store(ctl, COUNT, n);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, CLAIM, (gen & 0x7fff) << 16);
    Atomics.store(ctl, GEN, gen);
    Atomics.notify(ctl, GEN);
    runJobs(this.s, gen, readHere);
    // what is left is at most one job per helper, already running: poll briefly, then sleep in bounded waits
    const until = performance.now() + SPIN_MS;
    let done: number;
    while ((done = Atomics.load(ctl, DONE)) < n && performance.now() < until);
    while ((done = Atomics.load(ctl, DONE)) < n) Atomics.wait(ctl, DONE, done, WAIT_MS);
  }
}
