/**
 * A merge's second thread, with three kinds of work, all through shared memory (the merge's arena, a
 * shared WebAssembly memory, and a control block: read-helper-protocol.ts):
 * - READ batches: queued file reads (read-batch.ts) cut into 1 MiB jobs that both threads take. Used for
 *   whole tensors; for pieces that the merging thread then computes on it did not pay (a piece read on
 *   the other core must cross into this core's cache, and the merging thread waits for the last read).
 * - SUM batches: pieces of a task-vector sum that each thread reads *and sums* itself with its own
 *   instance of the kernels, so no piece crosses cores (task arithmetic's 1.6× the C floor became ~1.2×).
 * - One write at a time (write-behind): a merged tensor written with pwrite while the next is computed.
 *
 * The merging thread never waits for the helper to start or wake: it runs every job nobody has taken,
 * takes back a write not yet begun, and waits only for work the helper has already begun. Anything that
 * fails on the helper is redone on the merging thread, whose error is the one reported.
 */
import { readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { writeFullyAt } from '../../util/write-fully.js';
import type { FileRead } from './read-batch.js';
import {
  BELL, CLAIM, COUNT, DONE, GEN, JOB_BYTES, KIND, MAX_JOBS, MAX_SUM_MODELS, OK, RAN, READ, readJob, runJobs, sharedControl, SPIN_MS, STOP, SUM, SUM_ARGS, sumJob,
  views, WAIT_MS, WRITTEN, WSTATE, IDLE, POSTED, TAKEN, type Shared, type SumKernels,
} from './read-helper-protocol.js';

/**
 * FUSION_BENCH_READ_THREADS: 1 keeps every read on the merging thread, 2 adds the helper to every merge
 * (tests use it on small models); unset, a merge adds it when its inputs are large enough to repay it.
 */
export function readThreads(): 1 | 2 | 'auto' {
  const v = process.env.FUSION_BENCH_READ_THREADS;
  return v === '1' ? 1 : v === '2' ? 2 : 'auto';
}

/** One model's values in a file, as a SUM job reads them (see TaskVectorSum). */
export interface PieceFile {
  readonly fd: number;
  /** File offset of the tensor's value 0. */
  readonly position: number;
  readonly dtype: 'F32' | 'F16' | 'BF16';
}

/** A tensor's Σₖ f32(θₖ − θ₀) over pieces, for `sumPieces`; byte offsets are in the shared memory. */
export interface TaskVectorSum {
  readonly numel: number;
  readonly piece: number;
  /** Byte offsets of the sum (model 0's values are read into it) and of θ₀, whole tensors. */
  readonly acc: number;
  readonly base: number;
  readonly models: readonly PieceFile[];
  /** λ: each piece finished as θ₀ + λ·sum (absent: the sum as it is). */
  readonly scale?: number;
  /** Per model, a piece buffer for the merging thread and one for the helper (model 0's are unused). */
  readonly mine: readonly number[];
  readonly helpers: readonly number[];
}

const DTYPE_CODE = { F32: 0, F16: 1, BF16: 2 } as const;

export class ReadHelper {
  private readonly s: Shared;
  private readonly owner = new Int32Array(MAX_JOBS);
  private gen = 0;
  private pending: { fd: number; bytes: Uint8Array; position: number } | null = null;
  private worker: Worker | null;

  private constructor(private readonly data: SharedArrayBuffer, memory: unknown, private readonly kernels: SumKernels | null) {
    const control = sharedControl();
    this.s = views({ control, data, memory });
    this.worker = new Worker(new URL('./read-helper-worker.js', import.meta.url), { workerData: { control, data, memory } });
    this.worker.unref();
    // A helper that fails to start or dies only leaves its jobs to the merging thread.
    this.worker.on('error', () => this.close());
  }

  /**
   * A helper reading into `data`, or null where no thread can be started. Given the WebAssembly memory
   * over `data` and this thread's kernels instance on it, it also runs pieces of task-vector sums.
   */
  static start(data: SharedArrayBuffer, memory: unknown = null, kernels: SumKernels | null = null): ReadHelper | null {
    try {
      return new ReadHelper(data, memory, memory === null ? null : kernels);
    } catch {
      return null;
    }
  }

  /** Whether `sumPieces` can take this many models. */
  sums(models: number): boolean {
    return this.kernels !== null && this.worker !== null && models >= 1 && models <= MAX_SUM_MODELS;
  }

  /**
   * Computes the pieces of the sum on both threads, each thread reading and summing whole pieces in
   * its own buffers (no piece crosses between the cores' caches). Returns the indices of pieces that
   * failed (a file ended early): the caller redoes them its own way, which reports the error.
   */
  sumPieces(t: TaskVectorSum): number[] {
    const failed: number[] = [];
    const pieces = Math.ceil(t.numel / t.piece);
    const a = this.s.args;
    const A = SUM_ARGS;
    a[A.N] = t.numel;
    a[A.PIECE] = t.piece;
    a[A.ACC] = t.acc;
    a[A.BASE] = t.base;
    a[A.K] = t.models.length;
    a[A.SCALE] = t.scale ?? NaN;
    t.models.forEach((m, k) => {
      const at = A.MODELS + A.MODEL_ARGS * k;
      a[at + A.FD] = m.fd;
      a[at + A.POSITION] = m.position;
      a[at + A.DTYPE] = DTYPE_CODE[m.dtype];
      a[at + A.HELPER_PIECE] = t.helpers[k]!;
    });
    for (let first = 0; first < pieces; first += MAX_JOBS) {
      const n = Math.min(MAX_JOBS, pieces - first);
      a[A.FIRST] = first;
      for (let j = 0; j < n; j++) this.s.status[j] = 0;
      this.post(SUM, n, (j) => sumJob(this.s, readSync, this.kernels!, t.mine, j));
      for (let j = 0; j < n; j++) if (this.s.status[j] !== OK) failed.push(first + j);
    }
    return failed;
  }

  /** Runs the reads (those into `data` on both threads, others here), then re-reads any that failed here. */
  readAll(reads: readonly FileRead[]): void {
    const { fd, length, pos, status } = this.s;
    const retry = new Set<FileRead>();
    let n = 0;
    const flush = () => {
      if (n === 0) return;
      this.post(READ, n, (j) => readJob(this.s, readSync, j));
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

  /** Jobs and writes the helper thread has run so far. */
  get helperJobs(): number {
    return Atomics.load(this.s.ctl, RAN);
  }

  /**
   * Starts writing `bytes` (a view of the shared memory, which must stay as it is until `settleWrite`)
   * at `position` of `fd` on the helper thread; false where it cannot (the caller writes them itself).
   * One write at a time: a write still going is settled first.
   */
  startWrite(fd: number, bytes: Uint8Array, position: number): boolean {
    if (this.worker === null || bytes.buffer !== this.data) return false;
    this.settleWrite();
    const w = this.s.write;
    w[0] = fd;
    w[1] = position;
    w[2] = bytes.byteOffset;
    w[3] = bytes.byteLength;
    this.pending = { fd, bytes, position };
    Atomics.store(this.s.ctl, WSTATE, POSTED);
    this.ring();
    return true;
  }

  /**
   * Ends the started write: takes it back if the helper has not begun it (and writes it here), else
   * waits for it; one that failed is written again here, which throws its real error.
   */
  settleWrite(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    const ok = this.endWrite();
    if (!ok) writeFullyAt(p.fd, p.bytes, p.position);
  }

  /** True when the helper wrote the pending write; false when it failed or was taken back. */
  private endWrite(): boolean {
    const { ctl } = this.s;
    if (Atomics.compareExchange(ctl, WSTATE, POSTED, IDLE) === POSTED) return false;
    const until = performance.now() + SPIN_MS;
    let state: number;
    while ((state = Atomics.load(ctl, WSTATE)) === TAKEN && performance.now() < until);
    while ((state = Atomics.load(ctl, WSTATE)) === TAKEN) Atomics.wait(ctl, WSTATE, TAKEN, WAIT_MS);
    Atomics.store(ctl, WSTATE, IDLE);
    return state === WRITTEN;
  }

  /** Stops the thread (idempotent); later reads all run on the merging thread. */
  close(): void {
    const w = this.worker;
    if (w === null) return;
    if (this.pending !== null) {
      this.pending = null;
      this.endWrite(); // never leave a write running on a file its owner may close
    }
    this.worker = null;
    Atomics.store(this.s.ctl, STOP, 1);
    this.ring();
    void w.terminate();
  }

  /** Posts jobs 0 … n−1 of a kind, runs jobs until none is left, and waits for those the helper took. */
  private post(kind: typeof READ | typeof SUM, n: number, job: (j: number) => boolean): void {
    const { ctl } = this.s;
    const gen = ++this.gen;
    Atomics.store(ctl, KIND, kind);
    Atomics.store(ctl, COUNT, n);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, CLAIM, (gen & 0x7fff) << 16);
    Atomics.store(ctl, GEN, gen);
    this.ring();
    runJobs(this.s, gen, job);
    // what is left is at most one job per helper, already running
    this.waitFor(DONE, n);
  }

  /** Until ctl[word] reaches `value`: polls briefly, then sleeps in bounded waits. */
  private waitFor(word: number, value: number): void {
    const ctl = this.s.ctl;
    const until = performance.now() + SPIN_MS;
    let now: number;
    while ((now = Atomics.load(ctl, word)) !== value && performance.now() < until);
    while ((now = Atomics.load(ctl, word)) !== value) Atomics.wait(ctl, word, now, WAIT_MS);
  }

  /** Wakes the helper for whatever was just posted. */
  private ring(): void {
    Atomics.add(this.s.ctl, BELL, 1);
    Atomics.notify(this.s.ctl, BELL);
  }
}
