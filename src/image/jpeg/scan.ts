/**
 * Entropy decoding of one scan into the components' coefficient arrays: sequential (jdhuff.c) and
 * progressive (jdphuff.c) Huffman coding, restart intervals with libjpeg's resynchronisation, and
 * its handling of data that ends early (the rest of the segment's blocks stay as they are).
 */
import { BitReader, type HuffmanTable } from './huffman.js';
import type { Progression } from './smoothing.js';

/** Zigzag position → natural (row-major) index, padded with 63s as libjpeg's jpeg_natural_order. */
const NATURAL = new Uint8Array(64 + 16).fill(63);
NATURAL.set([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

export interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** libjpeg's downsampled_width/height: the component's own size in samples. */
  width: number;
  height: number;
  /** Blocks that cover the component (a non-interleaved scan's extent). */
  blocksWide: number;
  blocksHigh: number;
  /** Blocks per row/column of the stored array (whole MCUs). */
  stride: number;
  rows: number;
  coefs: Int16Array;
  /** Quantisation table latched at the component's first scan (jdinput.c latch_quant_tables). */
  quant: Int32Array | null;
}

export interface Frame {
  progressive: boolean;
  /** For progressive frames: what the scans so far have coded (block smoothing needs it). */
  progression: Progression | null;
  width: number;
  height: number;
  hmax: number;
  vmax: number;
  mcusX: number;
  mcusY: number;
  components: Component[];
}

export interface Scan {
  components: Component[];
  dc: (HuffmanTable | undefined)[];
  ac: (HuffmanTable | undefined)[];
  ss: number;
  se: number;
  ah: number;
  al: number;
  restartInterval: number;
}

type BlockDecoder = (r: BitReader, c: Component, off: number, ci: number) => void;

/**
 * Decodes the scan whose entropy-coded data starts at `start`: the position after it, and whether the
 * file ended inside it (no marker after the data). `alwaysTrack`: replay libjpeg's reading ahead even
 * where it cannot matter (the reference for tests).
 */
export function decodeScan(data: Uint8Array, start: number, frame: Frame, scan: Scan, alwaysTrack = false): { end: number; ranOut: boolean } {
  const r = new BitReader(data, start, alwaysTrack || !markerFollows(data, start));
  const ncomp = scan.components.length;
  const pred = new Int32Array(ncomp);
  let eobrun = 0;
  const { ss, se, ah, al } = scan;
  const p1 = 1 << al;
  const m1 = -1 << al;

  const baseline: BlockDecoder = (r, c, off, ci) => {
    const coefs = c.coefs;
    const dc = scan.dc[ci]!;
    const ac = scan.ac[ci]!;
    const t = r.decode(dc);
    pred[ci] = pred[ci]! + (t === 0 ? 0 : r.receiveExtend(t));
    coefs[off] = pred[ci]!;
    for (let k = 1; k < 64; k++) {
      const rs = r.decode(ac);
      const s = rs & 15;
      const run = rs >> 4;
      if (s !== 0) {
        k += run;
        coefs[off + NATURAL[k]!] = r.receiveExtend(s);
      } else {
        if (run !== 15) break;
        k += 15;
      }
    }
  };
  const dcFirst: BlockDecoder = (r, c, off, ci) => {
    const t = r.decode(scan.dc[ci]!);
    pred[ci] = pred[ci]! + (t === 0 ? 0 : r.receiveExtend(t));
    c.coefs[off] = pred[ci]! * p1;
  };
  const dcRefine: BlockDecoder = (r, c, off) => {
    if (r.bit()) c.coefs[off] = c.coefs[off]! | p1;
  };
  const acFirst: BlockDecoder = (r, c, off, ci) => {
    if (eobrun > 0) {
      eobrun--;
      return;
    }
    const ac = scan.ac[ci]!;
    const coefs = c.coefs;
    for (let k = ss; k <= se; k++) {
      const rs = r.decode(ac);
      const s = rs & 15;
      const run = rs >> 4;
      if (s !== 0) {
        k += run;
        coefs[off + NATURAL[k]!] = r.receiveExtend(s) * p1;
      } else if (run === 15) {
        k += 15;
      } else {
        eobrun = (1 << run) + r.bits(run) - 1;
        break;
      }
    }
  };
  const refineNonzero = (r: BitReader, coefs: Int16Array, i: number): void => {
    if (r.bit()) {
      const v = coefs[i]!;
      if ((v & p1) === 0) coefs[i] = v >= 0 ? v + p1 : v + m1;
    }
  };
  const acRefine: BlockDecoder = (r, c, off, ci) => {
    const ac = scan.ac[ci]!;
    const coefs = c.coefs;
    let k = ss;
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = r.decode(ac);
        let s = rs & 15;
        let run = rs >> 4;
        if (s !== 0) {
          s = r.bit() ? p1 : m1;
        } else if (run !== 15) {
          eobrun = (1 << run) + r.bits(run);
          break;
        }
        do {
          const i = off + NATURAL[k]!;
          if (coefs[i] !== 0) refineNonzero(r, coefs, i);
          else if (--run < 0) break;
          k++;
        } while (k <= se);
        if (s !== 0) coefs[off + NATURAL[k]!] = s;
      }
    }
    if (eobrun > 0) {
      for (; k <= se; k++) {
        const i = off + NATURAL[k]!;
        if (coefs[i] !== 0) refineNonzero(r, coefs, i);
      }
      eobrun--;
    }
  };

  // the same, AC coefficients through the fast table (possible when nothing is tracked)
  const baselineFast: BlockDecoder = (r, c, off, ci) => {
    const t = r.decode(scan.dc[ci]!);
    pred[ci] = pred[ci]! + (t === 0 ? 0 : r.receiveExtend(t));
    c.coefs[off] = pred[ci]!;
    r.acBlock(scan.ac[ci]!, c.coefs, off, NATURAL);
  };

  let decodeBlock: BlockDecoder;
  if (!frame.progressive) decodeBlock = r.tracking ? baseline : baselineFast;
  else if (ss === 0) decodeBlock = ah === 0 ? dcFirst : dcRefine;
  else decodeBlock = ah === 0 ? acFirst : acRefine;
  // DC refinement reads no Huffman codes, and jdphuff.c does not check for missing data there
  const checksData = decodeBlock !== dcRefine;

  let mcuCount: number;
  let mcusX: number;
  if (ncomp === 1) {
    const c = scan.components[0]!;
    mcusX = c.blocksWide;
    mcuCount = c.blocksWide * c.blocksHigh;
  } else {
    mcusX = frame.mcusX;
    mcuCount = frame.mcusX * frame.mcusY;
  }
  const interval = scan.restartInterval;
  let toGo = interval;
  let nextRestart = 0;
  const prog = frame.progression;
  const rowsPerIMCU = ncomp === 1 ? scan.components[0]!.v : 1;
  for (let m = 0; m < mcuCount; m++) {
    // jdcoefct.c consume_data: the last iMCU row reached with data left, for block smoothing
    if (prog && !r.insufficient) prog.lastGoodRow = Math.floor(Math.floor(m / mcusX) / rowsPerIMCU);
    if (interval > 0) {
      if (toGo === 0) {
        readRestartMarker(r, data, nextRestart);
        nextRestart = (nextRestart + 1) & 7;
        pred.fill(0);
        eobrun = 0;
        toGo = interval;
      }
      toGo--;
    }
    if (checksData && r.insufficient) continue;
    const my = Math.floor(m / mcusX);
    const mx = m - my * mcusX;
    if (ncomp === 1) {
      const c = scan.components[0]!;
      decodeBlock(r, c, (my * c.stride + mx) * 64, 0);
      continue;
    }
    for (let ci = 0; ci < ncomp; ci++) {
      const c = scan.components[ci]!;
      for (let y = 0; y < c.v; y++) {
        const row = my * c.v + y;
        for (let x = 0; x < c.h; x++) decodeBlock(r, c, (row * c.stride + mx * c.h + x) * 64, ci);
      }
    }
  }
  return { end: r.pos, ranOut: r.ahead.ranOut };
}

/**
 * process_restart + read_restart_marker + jpeg_resync_to_restart: drop the buffered bits, then take
 * the expected RSTn; on another marker follow libjpeg's recovery (discard it, skip ahead, or leave it
 * and treat the interval as empty).
 */
function readRestartMarker(r: BitReader, data: Uint8Array, desired: number): void {
  r.reset();
  let p = nextMarker(data, r.pos);
  // next_marker reading to the end of the file: libjpeg suspends (Pillow: truncated)
  if (p >= data.length) r.ahead.ranOut = true;
  let marker = p < data.length ? data[p + 1]! : 0xd9;
  const rst = 0xd0 + desired;
  let consumed = false;
  if (marker === rst) consumed = true;
  else {
    for (;;) {
      let action: number;
      if (marker < 0xc0) action = 2;
      else if (marker < 0xd0 || marker > 0xd7) action = 3;
      else if (marker === 0xd0 + ((desired + 1) & 7) || marker === 0xd0 + ((desired + 2) & 7)) action = 3;
      else if (marker === 0xd0 + ((desired - 1) & 7) || marker === 0xd0 + ((desired - 2) & 7)) action = 2;
      else action = 1;
      if (action === 1) {
        consumed = true;
        break;
      }
      if (action === 3) break;
      p = nextMarker(data, p + 2);
      if (p >= data.length) r.ahead.ranOut = true;
      marker = p < data.length ? data[p + 1]! : 0xd9;
    }
  }
  if (consumed) {
    r.pos = p + 2;
    r.insufficient = false;
  } else {
    r.pos = p;
    r.atMarker = true;
  }
  r.ahead.restart(r.pos, !consumed);
}

/**
 * Whether a marker that ends the scan's data comes after `start` (see BitReader's `track`): 0xFFC0 or
 * above but not RSTn, which jpeg_resync_to_restart leaves in place (it may skip lower ones and RSTs).
 */
function markerFollows(data: Uint8Array, start: number): boolean {
  // the usual file: an EOI at the very end (0xFF 0xD9 cannot occur inside entropy-coded data)
  const n = data.length;
  if (n - 2 >= start && data[n - 2] === 0xff && data[n - 1] === 0xd9) return true;
  for (let p = nextMarker(data, start); p < data.length; p = nextMarker(data, p + 2)) {
    const m = data[p + 1]!;
    if (m >= 0xc0 && (m < 0xd0 || m > 0xd7)) return true;
  }
  return false;
}

/** libjpeg's next_marker: the position of the next marker's last 0xFF, skipping garbage and fill bytes. */
export function nextMarker(data: Uint8Array, p: number): number {
  const n = data.length;
  for (;;) {
    while (p < n && data[p] !== 0xff) p++;
    if (p >= n) return n;
    while (p + 1 < n && data[p + 1] === 0xff) p++;
    if (p + 1 >= n) return n;
    if (data[p + 1] !== 0) return p;
    p += 2;
  }
}
