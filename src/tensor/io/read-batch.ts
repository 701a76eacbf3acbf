/**
 * File reads gathered to run together. A merge reads one piece of every model's tensor before it
 * combines them; queued here, those reads can run on two threads (read-helper.ts) where each alone
 * would block the merging thread in turn. Without a helper, or for buffers it cannot reach, each read
 * runs on the calling thread exactly as it would have without the batch.
 */
import type { ReadHelper } from './read-helper.js';

/** One queued read: `into.byteLength` bytes of `fd` from `position`. */
export interface FileRead {
  readonly fd: number;
  readonly position: number;
  readonly into: Uint8Array;
  /**
   * The same read on the calling thread, with the reader's own checks and errors (a file that ends
   * early names the file and tensor): the path without a helper, and the retry of a failed helper read.
   */
  readonly readHere: () => void;
}

export class ReadBatch {
  private reads: FileRead[] = [];
  private steps: (() => void)[] = [];

  constructor(private readonly helper: ReadHelper | null = null) {}

  /** Queues a read; its bytes are in place after `run()`. */
  read(r: FileRead): void {
    this.reads.push(r);
  }

  /** Work on read bytes (widening float16, rounding): runs after every read, in the order queued. */
  then(step: () => void): void {
    this.steps.push(step);
  }

  /** Runs the queued reads, then the queued steps, and empties the batch (also when a read throws). */
  run(): void {
    const reads = this.reads;
    const steps = this.steps;
    this.reads = [];
    this.steps = [];
    if (this.helper !== null && reads.length > 0) this.helper.readAll(reads);
    else for (const r of reads) r.readHere();
    for (const s of steps) s();
  }
}
