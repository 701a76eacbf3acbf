/**
 * Huffman tables and the entropy-coded bit stream, as libjpeg-turbo's jdhuff.c reads them: stuffed
 * 0xFF00 bytes, and at a marker (or the end of the data) zero bits from then on with an
 * "insufficient data" flag that makes the scan decoders leave the remaining blocks alone — the
 * output libjpeg gives for a truncated scan (a warning, not an error, so Pillow returns the image).
 */
import { ReadAhead } from './read-ahead.js';

const LOOKAHEAD = 9;

export interface HuffmanTable {
  /** Indexed by the next LOOKAHEAD bits: (code length << 8) | symbol, or 0 for a longer code. */
  lookup: Uint16Array;
  /** maxcode[l]: the largest code of length l, -1 if none (l = 1..16; [17] a sentinel). */
  maxcode: Int32Array;
  /** valoffset[l]: add to a code of length l to index `values`. */
  valoffset: Int32Array;
  values: Uint8Array;
  /**
   * For AC tables, indexed like `lookup`: a whole non-zero coefficient whose code and extra bits fit in
   * LOOKAHEAD bits, as (value << 16) | (run << 8) | bits; 0 where they do not (stb_image's fast AC).
   */
  fastAc: Int32Array | null;
}

/** jpeg_make_d_derived_tbl: `counts[l-1]` codes of length l, then the symbols. */
export function buildHuffmanTable(counts: Uint8Array, values: Uint8Array, isDC: boolean): HuffmanTable {
  let total = 0;
  for (let l = 0; l < 16; l++) total += counts[l]!;
  if (total > 256 || total > values.length) throw new Error('bad Huffman table');
  const maxcode = new Int32Array(18).fill(-1);
  const valoffset = new Int32Array(18);
  const lookup = new Uint16Array(1 << LOOKAHEAD);
  let code = 0;
  let p = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n > 0) {
      valoffset[l] = p - code;
      for (let i = 0; i < n; i++, p++, code++) {
        if (l <= LOOKAHEAD) {
          const shift = LOOKAHEAD - l;
          const base = code << shift;
          const entry = (l << 8) | values[p]!;
          for (let j = 0; j < 1 << shift; j++) lookup[base + j] = entry;
        }
      }
      maxcode[l] = code - 1;
    }
    // codes of length l must fit in l bits (libjpeg: JERR_BAD_HUFF_TABLE)
    if (code > 1 << l) throw new Error('bad Huffman table');
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  if (isDC) for (let i = 0; i < total; i++) if (values[i]! > 15) throw new Error('bad Huffman table');
  return { lookup, maxcode, valoffset, values: values.slice(0, total), fastAc: isDC ? null : buildFastAc(lookup) };
}

function buildFastAc(lookup: Uint16Array): Int32Array {
  const fast = new Int32Array(1 << LOOKAHEAD);
  for (let peek = 0; peek < 1 << LOOKAHEAD; peek++) {
    const e = lookup[peek]!;
    if (e === 0) continue;
    const l = e >> 8;
    const rs = e & 0xff;
    const size = rs & 15;
    if (size === 0 || l + size > LOOKAHEAD) continue;
    const v = (peek >> (LOOKAHEAD - l - size)) & ((1 << size) - 1);
    const value = v < 1 << (size - 1) ? v - (1 << size) + 1 : v;
    fast[peek] = (value << 16) | ((rs >> 4) << 8) | (l + size);
  }
  return fast;
}

/** The bits of one scan's entropy-coded segments. */
export class BitReader {
  /** Position of the next byte to read; at a marker it stays on that marker's 0xFF. */
  pos: number;
  private acc = 0;
  private n = 0;
  /** How many of the low bits of `acc` are zero padding past the data. */
  private pad = 0;
  /** True once a marker (or the end) was reached. */
  atMarker = false;
  /** libjpeg's insufficient_data: a bit past the data was consumed. */
  insufficient = false;
  /** libjpeg's reading ahead, to know whether Pillow would have run out of data. */
  readonly ahead: ReadAhead;

  /**
   * `track`: replay libjpeg's reading ahead. Needless when a marker other than RSTn follows the scan's
   * start: that reading stops at markers, so it cannot reach the end of the file.
   */
  constructor(private readonly data: Uint8Array, start: number, private readonly track = true) {
    this.pos = start;
    this.ahead = new ReadAhead(data, start);
  }

  private fill(): void {
    const data = this.data;
    while (this.n <= 24) {
      let b = 0;
      if (!this.atMarker) {
        let p = this.pos;
        if (p >= data.length) this.atMarker = true;
        else {
          b = data[p++]!;
          if (b === 0xff) {
            while (p < data.length && data[p] === 0xff) p++;
            if (p >= data.length) {
              // the file ends after 0xFF: libjpeg waits for the byte that says what it is
              this.atMarker = true;
              this.pos = data.length;
              b = 0;
            } else if (data[p] === 0) p++;
            else {
              // a marker: leave pos on its 0xFF for whoever reads markers next
              this.atMarker = true;
              this.pos = p - 1;
              b = 0;
            }
          }
          if (!this.atMarker) this.pos = p;
        }
      }
      if (this.atMarker) this.pad += 8;
      this.acc = (this.acc << 8) | b;
      this.n += 8;
    }
  }

  get tracking(): boolean {
    return this.track;
  }

  private consume(k: number): void {
    this.n -= k;
    if (this.n < this.pad) {
      this.insufficient = true;
      this.pad = this.n;
    }
  }

  bit(): number {
    if (this.track) this.ahead.take(1);
    if (this.n < 1) this.fill();
    const v = (this.acc >>> (this.n - 1)) & 1;
    this.consume(1);
    return v;
  }

  bits(k: number): number {
    if (k === 0) return 0;
    if (this.track) this.ahead.take(k);
    if (this.n < k) this.fill();
    const v = (this.acc >>> (this.n - k)) & ((1 << k) - 1);
    this.consume(k);
    return v;
  }

  /** Reads `k` bits and sign-extends them as JPEG's HUFF_EXTEND does. */
  receiveExtend(k: number): number {
    if (k === 0) return 0;
    const v = this.bits(k);
    return v < 1 << (k - 1) ? v - (1 << k) + 1 : v;
  }

  /** One Huffman symbol; an invalid code gives 0, as libjpeg's jpeg_huff_decode (with a warning). */
  decode(t: HuffmanTable): number {
    // a bad code costs 17 bits
    if (this.n < 17) this.fill();
    const peek = (this.acc >>> (this.n - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1);
    const e = t.lookup[peek]!;
    if (e !== 0) {
      if (this.track) this.ahead.huffman(e >> 8);
      this.consume(e >> 8);
      return e & 0xff;
    }
    let l = LOOKAHEAD + 1;
    let code = (this.acc >>> (this.n - l)) & ((1 << l) - 1);
    while (l <= 16 && code > t.maxcode[l]!) {
      l++;
      code = (this.acc >>> (this.n - l)) & ((1 << l) - 1);
    }
    if (l > 16) {
      // libjpeg has read 17 bits when it gives up on a code
      if (this.track) this.ahead.huffman(17);
      this.consume(17);
      return 0;
    }
    if (this.track) this.ahead.huffman(l);
    this.consume(l);
    return t.values[code + t.valoffset[l]!] ?? 0;
  }

  /**
   * A sequential block's AC coefficients (k = 1..63, zigzag → `natural`) into `coefs` at `off`, the
   * common ones in one table look-up each; the same bits and values as decode + receiveExtend. Only
   * without `track` (the look-up skips libjpeg's per-code reading-ahead steps).
   */
  acBlock(t: HuffmanTable, coefs: Int16Array, off: number, natural: Uint8Array): void {
    const fast = t.fastAc!;
    for (let k = 1; k < 64; k++) {
      if (this.n < 17) this.fill();
      const f = fast[(this.acc >>> (this.n - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)]!;
      if (f !== 0) {
        k += (f >> 8) & 0xff;
        coefs[off + natural[k]!] = f >> 16;
        this.consume(f & 0xff);
        continue;
      }
      const rs = this.decode(t);
      const s = rs & 15;
      const run = rs >> 4;
      if (s !== 0) {
        k += run;
        coefs[off + natural[k]!] = this.receiveExtend(s);
      } else {
        if (run !== 15) break;
        k += 15;
      }
    }
  }

  /** Drops buffered bits (start of a restart interval). */
  reset(): void {
    this.acc = 0;
    this.n = 0;
    this.pad = 0;
    this.atMarker = false;
  }
}
