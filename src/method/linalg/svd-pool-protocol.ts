/** What svd-pool.ts and its workers share: the batch message, the status words, the result message. */
import type { MessagePort } from 'node:worker_threads';
import type { PoolJob, PoolResult } from './svd-pool-jobs.js';

/**
 * A job's status word (Int32 at index j of the batch's `status`). Whoever moves it from FREE by
 * compare-and-exchange runs the job; a worker then leaves DONE (result posted on its port) or FAILED.
 */
export const FREE = 0;
export const CALLER = 1;
export const WORKER = 2;
export const DONE = 3;
export const FAILED = 4;

/** The worker's life word (Int32 at index 0 of `alive`): STARTING, READY, then GONE when it exits. */
export const STARTING = 0;
export const READY = 1;
export const GONE = 2;

/** Fault injection for the pool's tests: the worker exits, or stops responding, after claiming a job. */
export type Fault = 'exit' | 'hang';

export interface Batch {
  readonly id: number;
  /** One status word per job, in a SharedArrayBuffer. */
  readonly status: Int32Array;
  /** Inputs in shared memory (typed arrays over SharedArrayBuffers travel as views, not copies). */
  readonly jobs: readonly PoolJob[];
  readonly fault?: Fault;
}

export interface ResultMessage {
  readonly batch: number;
  readonly job: number;
  readonly result?: PoolResult;
  readonly error?: string;
}

export interface WorkerData {
  readonly alive: Int32Array;
  readonly port: MessagePort;
  /** onnxruntime threads for the worker's own GEMM bridge. */
  readonly gemmThreads: number;
}
