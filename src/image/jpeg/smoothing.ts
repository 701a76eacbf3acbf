/**
 * libjpeg-turbo's block smoothing for progressive files (jdcoefct.c smoothing_ok and
 * decompress_smooth_data, on by default and kept by Pillow): where a progressive file leaves some of the
 * first nine AC coefficients unrefined (a scan script that stops early, or data that ends before EOI),
 * libjpeg estimates those still-zero coefficients from the neighbouring blocks' DC values (5×5 window),
 * and the DC too when no AC data came at all. Complete files are not affected.
 */
import { idctIslow } from './idct.js';
import type { Component, Frame } from './scan.js';

const SAVED_COEFS = 10;

/** jdphuff.c's coef_bits: per component and coefficient, the Al of the last scan that coded it (-1: none yet). */
export interface Progression {
  coefBits: Int32Array;
  /** The same before each component's latest scan. */
  prevCoefBits: Int32Array;
  /** input_scan_number: SOS markers read. */
  scans: number;
  /** last_good_iMCU_row: the last iMCU row a scan decoded with data left. */
  lastGoodRow: number;
}

export function newProgression(components: number): Progression {
  return { coefBits: new Int32Array(components * 64).fill(-1), prevCoefBits: new Int32Array(components * 64), scans: 0, lastGoodRow: 0 };
}

/** start_pass_phuff_decoder's bookkeeping for a progressive scan over components `indices`. */
export function recordScan(p: Progression, indices: readonly number[], ss: number, se: number, al: number): void {
  for (const ci of indices) {
    const base = ci * 64;
    for (let k = Math.min(ss, 1); k <= Math.max(se, 9); k++) p.prevCoefBits[base + k] = p.scans > 1 ? p.coefBits[base + k]! : 0;
    for (let k = ss; k <= se; k++) p.coefBits[base + k] = al;
  }
}

interface Latch {
  current: Int32Array;
  previous: Int32Array;
}

/** smoothing_ok: the latched coef_bits when smoothing applies, else null. */
export function smoothingLatch(frame: Frame, p: Progression): Latch | null {
  const n = frame.components.length;
  const current = new Int32Array(n * SAVED_COEFS);
  const previous = new Int32Array(n * SAVED_COEFS);
  let useful = false;
  for (let ci = 0; ci < n; ci++) {
    const q = frame.components[ci]!.quant;
    if (!q || q[0] === 0 || q[1] === 0 || q[8] === 0 || q[16] === 0 || q[9] === 0 || q[2] === 0 || q[3] === 0 || q[10] === 0 || q[17] === 0 || q[24] === 0) return null;
    if (p.coefBits[ci * 64]! < 0) return null;
    current[ci * SAVED_COEFS] = p.coefBits[ci * 64]!;
    for (let k = 1; k < SAVED_COEFS; k++) {
      previous[ci * SAVED_COEFS + k] = p.scans > 1 ? p.prevCoefBits[ci * 64 + k]! : -1;
      current[ci * SAVED_COEFS + k] = p.coefBits[ci * 64 + k]!;
      if (p.coefBits[ci * 64 + k] !== 0) useful = true;
    }
  }
  return useful ? { current, previous } : null;
}

/** One coefficient estimate, rounded and limited as libjpeg does (Al < 0: not limited). */
function predict(num: number, q: number, al: number): number {
  const neg = num < 0;
  let p = Math.floor((q * 128 + (neg ? -num : num)) / (q * 256));
  if (al > 0 && p >= 1 << al) p = (1 << al) - 1;
  return neg ? -p : p;
}

/** decompress_smooth_data for component `ci` into the plane `out` (rows `stride` apart). */
export function idctSmoothed(frame: Frame, c: Component, ci: number, latch: Latch, lastGoodRow: number, out: Uint8Array, stride: number): void {
  const q = c.quant!;
  const coefs = c.coefs;
  const ws = new Int32Array(64);
  const block = new Int16Array(64);
  const dc = new Int32Array(25);
  const totalRows = frame.mcusY;
  const last = totalRows - 1;
  const lastCol = c.blocksWide - 1;
  const dcAt = (row: number, col: number) => coefs[(row * c.stride + col) * 64]!;
  for (let imcu = 0; imcu < totalRows; imcu++) {
    const blockRows = imcu < last ? c.v : c.blocksHigh % c.v || c.v;
    const bits = (imcu > lastGoodRow ? latch.previous : latch.current).subarray(ci * SAVED_COEFS, (ci + 1) * SAVED_COEFS);
    let changeDC = true;
    for (let k = 1; k < SAVED_COEFS; k++) if (bits[k] !== -1) changeDC = false;
    for (let br = 0; br < blockRows; br++) {
      const r = imcu * c.v + br;
      const prev = br > 0 || imcu > 0 ? r - 1 : r;
      const prevPrev = br > 1 || imcu > 1 ? r - 2 : prev;
      const next = br < blockRows - 1 || imcu < last ? r + 1 : r;
      const nextNext = br < blockRows - 2 || imcu + 1 < last ? r + 2 : next;
      const rows = [prevPrev, prev, r, next, nextNext];
      for (let i = 0; i < 5; i++) dc.fill(dcAt(rows[i]!, 0), i * 5, i * 5 + 5);
      for (let col = 0; col <= lastCol; col++) {
        block.set(coefs.subarray((r * c.stride + col) * 64, (r * c.stride + col) * 64 + 64));
        if (col === 0 && col < lastCol) for (let i = 0; i < 5; i++) dc[i * 5 + 3] = dcAt(rows[i]!, 1);
        if (col + 1 < lastCol) for (let i = 0; i < 5; i++) dc[i * 5 + 4] = dcAt(rows[i]!, col + 2);
        estimate(block, dc, bits, q, changeDC);
        idctIslow(block, 0, q, out, r * 8 * stride + col * 8, stride, ws);
        for (let i = 0; i < 5; i++) dc.copyWithin(i * 5, i * 5 + 1, i * 5 + 5);
      }
    }
  }
}

/** The estimates of jdcoefct.c for one block, written into `b` where its coefficient is still zero. */
function estimate(b: Int16Array, d: Int32Array, bits: Int32Array, q: Int32Array, changeDC: boolean): void {
  // d[0..24] are DC01..DC25 of the C code: rows two above to two below, columns two left to two right
  const D = (n: number) => d[n - 1]!;
  const q00 = q[0]!;
  let al: number;
  if ((al = bits[1]!) !== 0 && b[1] === 0) {
    const s = changeDC
      ? -D(1) - D(2) + D(4) + D(5) - 3 * D(6) + 13 * D(7) - 13 * D(9) + 3 * D(10) - 3 * D(11) + 38 * D(12) - 38 * D(14) + 3 * D(15) - 3 * D(16) + 13 * D(17) - 13 * D(19) + 3 * D(20) - D(21) - D(22) + D(24) + D(25)
      : -7 * D(11) + 50 * D(12) - 50 * D(14) + 7 * D(15);
    b[1] = predict(q00 * s, q[1]!, al);
  }
  if ((al = bits[2]!) !== 0 && b[8] === 0) {
    const s = changeDC
      ? -D(1) - 3 * D(2) - 3 * D(3) - 3 * D(4) - D(5) - D(6) + 13 * D(7) + 38 * D(8) + 13 * D(9) - D(10) + D(16) - 13 * D(17) - 38 * D(18) - 13 * D(19) + D(20) + D(21) + 3 * D(22) + 3 * D(23) + 3 * D(24) + D(25)
      : -7 * D(3) + 50 * D(8) - 50 * D(18) + 7 * D(23);
    b[8] = predict(q00 * s, q[8]!, al);
  }
  if ((al = bits[3]!) !== 0 && b[16] === 0) {
    const s = changeDC
      ? D(3) + 2 * D(7) + 7 * D(8) + 2 * D(9) - 5 * D(12) - 14 * D(13) - 5 * D(14) + 2 * D(17) + 7 * D(18) + 2 * D(19) + D(23)
      : -D(3) + 13 * D(8) - 24 * D(13) + 13 * D(18) - D(23);
    b[16] = predict(q00 * s, q[16]!, al);
  }
  if ((al = bits[4]!) !== 0 && b[9] === 0) {
    const s = changeDC
      ? -D(1) + D(5) + 9 * D(7) - 9 * D(9) - 9 * D(17) + 9 * D(19) + D(21) - D(25)
      : D(10) + D(16) - 10 * D(17) + 10 * D(19) - D(2) - D(20) + D(22) - D(24) + D(4) - D(6) + 10 * D(7) - 10 * D(9);
    b[9] = predict(q00 * s, q[9]!, al);
  }
  if ((al = bits[5]!) !== 0 && b[2] === 0) {
    const s = changeDC
      ? 2 * D(7) - 5 * D(8) + 2 * D(9) + D(11) + 7 * D(12) - 14 * D(13) + 7 * D(14) + D(15) + 2 * D(17) - 5 * D(18) + 2 * D(19)
      : -D(11) + 13 * D(12) - 24 * D(13) + 13 * D(14) - D(15);
    b[2] = predict(q00 * s, q[2]!, al);
  }
  if (!changeDC) return;
  if ((al = bits[6]!) !== 0 && b[3] === 0) b[3] = predict(q00 * (D(7) - D(9) + 2 * D(12) - 2 * D(14) + D(17) - D(19)), q[3]!, al);
  if ((al = bits[7]!) !== 0 && b[10] === 0) b[10] = predict(q00 * (D(7) - 3 * D(8) + D(9) - D(17) + 3 * D(18) - D(19)), q[10]!, al);
  if ((al = bits[8]!) !== 0 && b[17] === 0) b[17] = predict(q00 * (D(7) - D(9) - 3 * D(12) + 3 * D(14) + D(17) - D(19)), q[17]!, al);
  if ((al = bits[9]!) !== 0 && b[24] === 0) b[24] = predict(q00 * (D(7) + 2 * D(8) + D(9) - D(17) - 2 * D(18) - D(19)), q[24]!, al);
  const s =
    -2 * D(1) - 6 * D(2) - 8 * D(3) - 6 * D(4) - 2 * D(5) - 6 * D(6) + 6 * D(7) + 42 * D(8) + 6 * D(9) - 6 * D(10) - 8 * D(11) + 42 * D(12) + 152 * D(13) + 42 * D(14) - 8 * D(15) - 6 * D(16) + 6 * D(17) + 42 * D(18) +
    6 * D(19) - 6 * D(20) - 2 * D(21) - 6 * D(22) - 8 * D(23) - 6 * D(24) - 2 * D(25);
  b[0] = predict(q00 * s, q00, -1);
}
