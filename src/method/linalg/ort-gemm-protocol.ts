/**
 * What ort-gemm.ts and its worker share: the SharedArrayBuffer layout and its control words. A job is
 * posted by writing its description into the buffer and bumping the job word, which the worker waits on
 * (Atomics.waitAsync): no message per product. A buffer is sent as a message once, when it is new.
 */

/** Status word values (Int32 STATUS of the job buffer; word 0 of the ready buffer for READY). */
export const PENDING = 0;
export const DONE = 1;
export const FAILED = 2;
export const READY = 3;

/** Int32 words of the header. */
export const STATUS = 0;
/** Incremented by the caller for each job; RETIRED when the buffer is replaced by a larger one. */
export const JOB = 1;
export const RETIRED = -1;
/** Index into OPS of the graph to run. */
export const OP = 2;
/** The number of inputs, then each input's two dimensions, then the output's length. */
export const INPUTS = 3;
export const DIMS = 4;
export const MAX_INPUTS = 4;
export const OUT_LENGTH = DIMS + 2 * MAX_INPUTS;
/** Byte offset of the failure message (UTF-8, NUL-terminated), which runs to HEADER_BYTES. */
export const MESSAGE_AT = 64;
/** Bytes before the operands. */
export const HEADER_BYTES = 512;

/** The graphs the worker runs, by index: inputs x0, x1, … (float64, row-major, 2-D), output y. */
export const OPS = ['matmul', 'tmatmul', 'matmult', 'gram', 'gramt', 'wyr'] as const;
export type Op = (typeof OPS)[number];

/** The message that hands the worker a new job buffer (its job word starts at 0). */
export interface BufferMessage {
  readonly sab: SharedArrayBuffer;
}

export function elements(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
