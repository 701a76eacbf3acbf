/**
 * The shared-memory layout between a ReadHelper (read-helper.ts) and its thread (read-helper-worker.ts).
 *
 * `ctl` (Int32Array): GEN — the batch generation, bumped (and notified) when a batch is posted; CLAIM —
 * (generation mod 2^15) << 16 | next job index: a thread takes a job by compare-and-exchange on it, so a
 * thread still looking at an older batch can never take a job of a newer one; COUNT — jobs in the batch;
 * DONE — jobs finished (notified when it reaches COUNT); STOP — set when the helper closes; RAN — jobs
 * the helper thread has run in all (a statistic).
 * Per job j: `fd[j]`, `length[j]` (bytes, ≤ JOB_BYTES), `status[j]` (OK or FAILED, set by whoever ran
 * it), and in `pos` (Float64Array) the file position pos[2j] and the destination's byte offset in the
 * shared data buffer pos[2j + 1].
 */
export const GEN = 0;
export const CLAIM = 1;
export const COUNT = 2;
export const DONE = 3;
export const STOP = 4;
export const RAN = 5;
export const CTL_WORDS = 8;

export const OK = 1;
export const FAILED = 2;

/** Jobs per posted batch (fits CLAIM's 16 index bits); longer batches are posted in rounds. */
export const MAX_JOBS = 4096;
/** Bytes per job: 1 MiB reads, as the floor program's and Node's own read-ahead sizes. */
export const JOB_BYTES = 1 << 20;

/** How long a thread polls before it sleeps (ms): a merge posts its next batch within microseconds. */
export const SPIN_MS = 0.5;
/**
 * Sleeps are bounded and re-check their condition: on Node 20 an Atomics.wait was seen to miss a
 * notify that came just before it started (about once in 50 000 waits in a test here), which without
 * a bound would hang the waiter. The merging thread waits only for jobs already taken (≤ 1 MiB each).
 */
export const WAIT_MS = 2;
/** The helper's sleep between batches: a missed wake-up costs only parallelism, not correctness. */
export const IDLE_WAIT_MS = 50;

export interface Shared {
  readonly ctl: Int32Array;
  readonly fd: Int32Array;
  readonly length: Int32Array;
  readonly status: Int32Array;
  readonly pos: Float64Array;
  /** The buffer reads land in (a merge arena's memory). */
  readonly data: Uint8Array;
}

export interface SharedBuffers {
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

export function sharedControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTL_WORDS * 4 + MAX_JOBS * (4 + 4 + 4 + 16));
}

export function views(b: SharedBuffers): Shared {
  const c = b.control;
  let at = 0;
  const ints = (n: number) => new Int32Array(c, (at += n * 4) - n * 4, n);
  const ctl = ints(CTL_WORDS);
  const fd = ints(MAX_JOBS);
  const length = ints(MAX_JOBS);
  const status = ints(MAX_JOBS);
  const pos = new Float64Array(c, at, 2 * MAX_JOBS);
  return { ctl, fd, length, status, pos, data: new Uint8Array(b.data) };
}

/** Takes and runs jobs of generation `gen` until none is left; returns how many this thread ran. */
export function runJobs(s: Shared, gen: number, read: (fd: number, into: Uint8Array, position: number) => number): number {
  const { ctl } = s;
  const count = Atomics.load(ctl, COUNT);
  const tag = (gen & 0x7fff) << 16;
  let ran = 0;
  for (;;) {
    const c = Atomics.load(ctl, CLAIM);
    const j = c & 0xffff;
    if ((c & ~0xffff) !== tag || j >= count) return ran;
    if (Atomics.compareExchange(ctl, CLAIM, c, c + 1) !== c) continue;
    let ok = false;
    try {
      const into = s.data.subarray(s.pos[2 * j + 1]!, s.pos[2 * j + 1]! + s.length[j]!);
      ok = read(s.fd[j]!, into, s.pos[2 * j]!) === into.byteLength;
    } catch {
      ok = false; // the calling thread re-reads it and reports the error in its own words
    }
    Atomics.store(s.status, j, ok ? OK : FAILED);
    ran++;
    if (Atomics.add(ctl, DONE, 1) + 1 === count) Atomics.notify(ctl, DONE);
  }
}

/** Reads `into` whole from `position` (a short read means the file ended). Returns the bytes read. */
export function readFully(readSync: (fd: number, b: Uint8Array, o: number, l: number, p: number) => number, fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.byteLength) {
    const got = readSync(fd, into, done, into.byteLength - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}
