/**
 * Snappy decompression for parquet pages, given to hyparquet as its SNAPPY decompressor. hyparquet's own
 * decoder reads a literal's 4-byte length as a signed int: a negative length moves its read position
 * backwards, and a 1.4 KB page kept it busy for 12 s. This one checks every length and offset against
 * the input and the output before it copies (format: github.com/google/snappy, format_description.txt).
 */
export class SnappyError extends Error {
  override name = 'SnappyError';
}

export function snappyUncompress(input: Uint8Array, outputLength: number): Uint8Array {
  const end = input.length;
  let pos = 0;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= end || shift > 28) throw new SnappyError('snappy: bad length preamble');
    const c = input[pos++]!;
    declared += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  if (declared !== outputLength) throw new SnappyError(`snappy: the data holds ${declared} bytes where the page header says ${outputLength}`);
  const out = new Uint8Array(outputLength);
  let o = 0;
  while (pos < end) {
    const tag = input[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const n = len - 60;
        if (pos + n > end) throw new SnappyError('snappy: literal length past the end of the data');
        len = 1;
        for (let k = 0; k < n; k++) len += input[pos + k]! * 2 ** (8 * k);
        pos += n;
      }
      if (pos + len > end || o + len > outputLength) throw new SnappyError('snappy: literal past the end of the data or the page');
      out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= end) throw new SnappyError('snappy: copy past the end of the data');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else if (kind === 2) {
      if (pos + 2 > end) throw new SnappyError('snappy: copy past the end of the data');
      len = (tag >>> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > end) throw new SnappyError('snappy: copy past the end of the data');
      len = (tag >>> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > o) throw new SnappyError(`snappy: copy offset ${offset} at output byte ${o}`);
    if (o + len > outputLength) throw new SnappyError('snappy: copy past the end of the page');
    // Copies may overlap their own output (offset < len): byte by byte.
    for (let k = 0; k < len; k++) out[o + k] = out[o - offset + k]!;
    o += len;
  }
  if (o !== outputLength) throw new SnappyError(`snappy: ${o} of ${outputLength} bytes`);
  return out;
}
