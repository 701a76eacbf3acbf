/**
 * The shared-memory layout between a ReadHelper (read-helper.ts) and its thread (read-helper-worker.ts).
 *
 * `ctl` (Int32Array): GEN — the batch generation, bumped (and notified) when a batch is posted; CLAIM —
 * (generation mod 2^15) << 16 | next job index: a thread takes a job by compare-and-exchange on it, so a
 * thread still looking at an older batch can never take a job of a newer one; COUNT — jobs in the batch;
 * DONE — jobs finished (notified when it reaches COUNT); STOP — set when the helper closes; RAN — jobs
 * the helper thread has run in all (a statistic); KIND — what the batch's jobs are (READ or SUM); BELL —
 * bumped (and notified) by every post, a batch or a write: the one word the idle helper sleeps on.
 *
 * Beside the batches, one write at a time (write-behind: the merging thread computes the next tensor
 * while the helper writes this one): WSTATE — IDLE, POSTED, TAKEN (by the helper, by compare-and-
 * exchange: a write the helper has not taken the merging thread takes back and does itself), then
 * WRITTEN or WRITE_FAILED; in `write` (Float64Array) its fd, file position, source byte offset and length.
 * RAN also counts the writes the helper ran.
 *
 * READ jobs, per job j: `fd[j]`, `length[j]` (bytes, ≤ JOB_BYTES), and in `pos` (Float64Array) the file
 * position pos[2j] and the destination's byte offset in the shared memory pos[2j + 1].
 * SUM jobs (one tensor's task-vector sum, job j = its piece FIRST + j): the arguments in `args`
 * (Float64Array, SUM_ARGS layout below), the same for every piece.
 * Per job, `status[j]` (OK or FAILED) is set by whichever thread ran it.
 */
import { writeFullyAt } from '../../util/write-fully.js';

export const GEN = 0;
export const CLAIM = 1;
export const COUNT = 2;
export const DONE = 3;
export const STOP = 4;
export const RAN = 5;
export const KIND = 6;
export const BELL = 7;
export const WSTATE = 8;

export const IDLE = 0;
export const POSTED = 1;
export const TAKEN = 2;
export const WRITTEN = 3;
/** Its own value: a failed write must not read as TAKEN, which the merging thread waits on. */
export const WRITE_FAILED = 4;

export const READ = 0;
export const SUM = 1;

/**
 * SUM arguments: N values in the tensor, PIECE values per piece, FIRST piece of job 0, ACC and BASE (byte
 * offsets of the sum and of θ₀, whole tensors), K models, SCALE λ (NaN: the sum as it is, else each
 * piece finished as θ₀ + λ·sum); then per model k (at MODELS + MODEL_ARGS·k) its
 * FD, POSITION (file offset of value 0), DTYPE (0 float32, 1 float16, 2 bfloat16) and the helper's piece
 * buffer HELPER_PIECE (byte offset; model 0 reads straight into the sum).
 */
export const SUM_ARGS = { N: 0, PIECE: 1, FIRST: 2, ACC: 3, BASE: 4, K: 5, SCALE: 6, MODELS: 7, FD: 0, POSITION: 1, DTYPE: 2, HELPER_PIECE: 3, MODEL_ARGS: 4 } as const;
/** Models a SUM batch takes (TALL20's 20 and more). */
export const MAX_SUM_MODELS = 64;
export const CTL_WORDS = 12;

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
  readonly args: Float64Array;
  /** The write's fd, position, source offset and length. */
  readonly write: Float64Array;
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
  /** The WebAssembly memory over `data`, for the helper's own instance of the kernels (null: reads only). */
  readonly memory: unknown;
}

const ARGS = SUM_ARGS.MODELS + SUM_ARGS.MODEL_ARGS * MAX_SUM_MODELS;

export function sharedControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTL_WORDS * 4 + MAX_JOBS * (4 + 4 + 4 + 16) + ARGS * 8 + 4 * 8);
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
  const args = new Float64Array(c, at + 16 * MAX_JOBS, ARGS);
  const write = new Float64Array(c, at + 16 * MAX_JOBS + 8 * ARGS, 4);
  return { ctl, fd, length, status, pos, args, write, data: new Uint8Array(b.data) };
}

/** Takes and runs jobs of generation `gen` until none is left; returns how many this thread ran. */
export function runJobs(s: Shared, gen: number, job: (j: number) => boolean): number {
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
      ok = job(j);
    } catch {
      ok = false; // the merging thread redoes it and reports the error in its own words
    }
    Atomics.store(s.status, j, ok ? OK : FAILED);
    ran++;
    if (Atomics.add(ctl, DONE, 1) + 1 === count) Atomics.notify(ctl, DONE);
  }
}

/** fs.readSync's positional form. */
type ReadSync = (fd: number, b: Uint8Array, o: number, l: number, p: number) => number;

/** READ job j; false when the file ended first. */
export function readJob(s: Shared, readSync: ReadSync, j: number): boolean {
  const into = s.data.subarray(s.pos[2 * j + 1]!, s.pos[2 * j + 1]! + s.length[j]!);
  return readFully(readSync, s.fd[j]!, into, s.pos[2 * j]!) === into.byteLength;
}

/** The kernels a SUM job runs (f32-kernels.wat's, over the shared memory). */
export interface SumKernels {
  sub(x: number, b: number, n: number): void;
  addDiff(acc: number, x: number, b: number, n: number): void;
  addDiffHalf(acc: number, x: number, b: number, n: number, bf: number, first: number): void;
  baseAddScaled(out: number, base: number, s: number, v: number, n: number): void;
}

/**
 * SUM job j: piece FIRST + j of Σₖ f32(θₖ − θ₀), in model order, with θ₀ already in memory: model 0's
 * piece read into the sum and θ₀ subtracted, then each further model's piece read into `pieces[k]` and
 * its difference added, and with SCALE θ₀ + λ·sum — the merge's own loop and finish
 * (task-vector-family.ts), on whichever thread runs it. Half-precision pieces are widened as they are
 * added (addDiffHalf: the same float32 values as widening first, one pass over the piece fewer).
 * False when a file ended first.
 */
export function sumJob(s: Shared, readSync: ReadSync, k: SumKernels, pieces: readonly number[], j: number): boolean {
  const a = s.args;
  const A = SUM_ARGS;
  const piece = a[A.PIECE]!;
  const start = (a[A.FIRST]! + j) * piece;
  const len = Math.min(piece, a[A.N]! - start);
  const acc = a[A.ACC]! + 4 * start;
  const base = a[A.BASE]! + 4 * start;
  for (let m = 0; m < a[A.K]!; m++) {
    const at = A.MODELS + A.MODEL_ARGS * m;
    const dtype = a[at + A.DTYPE]!;
    const size = dtype === 0 ? 4 : 2;
    // half precision, model 0: the upper half of the sum's bytes, widened in place
    const into = m === 0 ? (dtype === 0 ? acc : acc + 2 * len) : pieces[m]!;
    if (readFully(readSync, a[at + A.FD]!, s.data.subarray(into, into + size * len), a[at + A.POSITION]! + size * start) !== size * len) return false;
    if (dtype !== 0) k.addDiffHalf(acc, into, base, len, dtype === 2 ? 1 : 0, m === 0 ? 1 : 0);
    else if (m === 0) k.sub(acc, base, len);
    else k.addDiff(acc, into, base, len);
  }
  const scale = a[A.SCALE]!;
  if (!Number.isNaN(scale)) k.baseAddScaled(acc, base, scale, acc, len); // float32 λ, as f32.ts's baseAddScaled
  return true;
}

/** The helper's piece buffers of a SUM batch (model 0 needs none). */
export function helperPieces(s: Shared): number[] {
  const a = s.args;
  return Array.from({ length: a[SUM_ARGS.K]! }, (_, m) => a[SUM_ARGS.MODELS + SUM_ARGS.MODEL_ARGS * m + SUM_ARGS.HELPER_PIECE]!);
}

/** The posted write (in write-fully.ts's 1 MiB calls); throws as fs does. */
export function writeJob(s: Shared): void {
  const [fd, position, offset, length] = s.write as unknown as [number, number, number, number];
  writeFullyAt(fd, s.data.subarray(offset, offset + length), position);
}

/** Reads `into` whole from `position` (a short read means the file ended). Returns the bytes read. */
export function readFully(readSync: ReadSync, fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.byteLength) {
    const got = readSync(fd, into, done, into.byteLength - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}
