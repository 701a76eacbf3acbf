/** What ort-gemm.ts and its worker share: the job message and the SharedArrayBuffer layout. */

/** Status word values (Int32 at byte 0 of the job buffer; of the ready buffer for READY). */
export const PENDING = 0;
export const DONE = 1;
export const FAILED = 2;
export const READY = 3;

/** Bytes before the operands: status word, padding, the failure message (UTF-8, NUL-terminated). */
export const HEADER_BYTES = 512;

/** Operands A (m×k) then B (k×n) then the product (m×n), row-major float64, after the header. */
export interface GemmJob {
  readonly sab: SharedArrayBuffer;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

export function jobBytes(m: number, k: number, n: number): number {
  return HEADER_BYTES + 8 * (m * k + k * n + m * n);
}
