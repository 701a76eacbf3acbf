/**
 * What follows a single-scan image's one scan. libjpeg has produced every row by then; Pillow still
 * calls jpeg_finish_decompress, which reads the markers up to EOI: running out of data there is a
 * suspension that Pillow ignores (the image is returned), but an error libjpeg's marker reader raises
 * first (jdmarker.c: a second SOF or SOS, bad lengths, bad table indices) fails the image. The checks
 * follow jdmarker.c's order, so that a segment the file cuts short fails only where libjpeg would have
 * seen the error before the end.
 */

/** Markers libjpeg's read_markers stops at: JPG, DHP, EXP, JPGn and the reserved codes. */
export function isReservedMarker(m: number): boolean {
  return (m >= 0x02 && m <= 0xbf) || m === 0xc8 || m === 0xde || m === 0xdf || (m >= 0xf0 && m <= 0xfd);
}

/** SOF types libjpeg-turbo 2.1 does not decode (lossless, hierarchical). */
export function isUnsupportedSof(m: number): boolean {
  return m === 0xc3 || (m >= 0xc5 && m <= 0xc7) || m === 0xcb || (m >= 0xcd && m <= 0xcf);
}

/** The outcome for the marker at `p` (its code at `p + 1`): the position after it, or 'end' to stop and keep the image. */
export function trailingMarker(bytes: Uint8Array, p: number): number | 'end' {
  const n = bytes.length;
  const marker = bytes[p + 1]!;
  let q = p + 2;
  if (marker === 0xd9) return 'end';
  if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) return q;
  if (marker === 0xd8) throw new Error('duplicate SOI marker');
  if (isReservedMarker(marker) || isUnsupportedSof(marker)) throw new Error(`unsupported marker 0xFF${marker.toString(16).toUpperCase()}`);
  if (q + 2 > n) return 'end';
  const length = (bytes[q]! << 8) | bytes[q + 1]!;
  q += 2;
  let left = length - 2;
  const has = (k: number) => q + k <= n;
  switch (marker) {
    case 0xc0:
    case 0xc1:
    case 0xc2:
    case 0xc9:
    case 0xca:
      // get_sof reads precision, height, width and count before it sees the duplicate
      if (!has(6)) return 'end';
      throw new Error('more than one SOF marker');
    case 0xda: {
      if (!has(1)) return 'end';
      const ns = bytes[q]!;
      if (length !== ns * 2 + 6 || ns < 1 || ns > 4) throw new Error('bad SOS marker length');
      if (!has(length - 2)) return 'end';
      throw new Error('a second scan in a single-scan image (EOI expected)');
    }
    case 0xc4:
      while (left > 16) {
        if (!has(17)) return 'end';
        let count = 0;
        for (let i = 1; i <= 16; i++) count += bytes[q + i]!;
        const index = bytes[q]!;
        q += 17;
        left -= 17;
        if (count > 256 || count > left) throw new Error('bad Huffman table');
        if (!has(count)) return 'end';
        q += count;
        left -= count;
        if ((index & 0x10 ? index - 0x10 : index) >= 4) throw new Error(`bad DHT index ${index}`);
      }
      if (left !== 0) throw new Error('bad DHT marker length');
      return q;
    case 0xdb:
      while (left > 0) {
        if (!has(1)) return 'end';
        const size = bytes[q]! >> 4 ? 128 : 64;
        if ((bytes[q]! & 15) >= 4) throw new Error(`bad DQT index ${bytes[q]! & 15}`);
        if (!has(1 + size)) return 'end';
        q += 1 + size;
        left -= 1 + size;
      }
      if (left !== 0) throw new Error('bad DQT marker length');
      return q;
    case 0xdd:
      if (length !== 4) throw new Error('bad DRI marker length');
      return has(2) ? q + 2 : 'end';
    case 0xcc:
      while (left > 0) {
        if (!has(2)) return 'end';
        const index = bytes[q]!;
        const val = bytes[q + 1]!;
        q += 2;
        left -= 2;
        if (index >= 32) throw new Error(`bad DAC index ${index}`);
        if (index >= 16 ? val < 1 || val > 63 : (val & 15) > val >> 4) throw new Error(`bad DAC value ${val}`);
      }
      if (left !== 0) throw new Error('bad DAC marker length');
      return q;
    default:
      // APPn, COM, DNL: skipped, whatever their length says
      return left > 0 ? (has(left) ? q + left : 'end') : q;
  }
}
