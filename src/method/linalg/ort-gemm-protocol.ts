/** What ort-gemm.ts and its worker share: the job message and the SharedArrayBuffer layout. */

/** Status word values (Int32 at byte 0 of the job buffer; of the ready buffer for READY). */
export const PENDING = 0;
export const DONE = 1;
export const FAILED = 2;
export const READY = 3;

/** Bytes before the operands: status word, padding, the failure message (UTF-8, NUL-terminated). */
export const HEADER_BYTES = 512;

/**
 * One run of graph `op`: its inputs (float64, row-major, named by position `x0`, `x1`, …) one after the
 * other after the header, then the single output `y` of `outLength` elements.
 */
export interface GemmJob {
  readonly sab: SharedArrayBuffer;
  readonly op: string;
  readonly dims: readonly (readonly number[])[];
  readonly outLength: number;
}

export function elements(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
