/**
 * When libjpeg's bit reader would ask for bytes past the end of the file. Pillow feeds libjpeg a
 * suspending source: once jdhuff.c's jpeg_fill_bit_buffer wants a byte the file does not have, the
 * decoder suspends and Pillow raises "image file is truncated", even if the bits it already held
 * would have finished the image. That reader fills up to 57 bits (64-bit builds) whenever it holds
 * fewer than a read needs, and Huffman decoding first peeks 8 bits; this model replays those fills
 * over the bits our own reader consumes, to see whether one of them runs off the end.
 */

const MIN_GET_BITS = 57;
const HUFF_LOOKAHEAD = 8;

export class ReadAhead {
  /** libjpeg's bits_left. */
  private bits = 0;
  /** libjpeg's next_input_byte. */
  private pos: number;
  /** A marker stops the filling (libjpeg's unread_marker). */
  private atMarker = false;
  /** A fill needed a byte past the end of the file. */
  ranOut = false;

  constructor(private readonly data: Uint8Array, start: number) {
    this.pos = start;
  }

  /** jpeg_fill_bit_buffer: read whole bytes until 57 bits or a marker; pad with zeros if `need` is still short. */
  private fill(need: number): void {
    const data = this.data;
    while (this.bits < MIN_GET_BITS) {
      if (this.atMarker) break;
      let p = this.pos;
      if (p >= data.length) {
        this.ranOut = true;
        this.bits = MIN_GET_BITS;
        return;
      }
      if (data[p] === 0xff) {
        p++;
        while (p < data.length && data[p] === 0xff) p++;
        if (p >= data.length) {
          this.ranOut = true;
          this.bits = MIN_GET_BITS;
          return;
        }
        if (data[p] !== 0) {
          this.atMarker = true;
          break;
        }
      }
      this.pos = p + 1;
      this.bits += 8;
    }
    if (this.atMarker && need > this.bits) this.bits = MIN_GET_BITS;
  }

  /** CHECK_BIT_BUFFER(k) + GET_BITS(k). */
  take(k: number): void {
    if (this.bits < k) this.fill(k);
    this.bits -= k;
  }

  /** HUFF_DECODE of a code that turned out `length` bits long (17 for a code no table has). */
  huffman(length: number): void {
    let nb: number;
    if (this.bits < HUFF_LOOKAHEAD) {
      this.fill(0);
      if (this.bits < HUFF_LOOKAHEAD) {
        nb = 1;
      } else if (length <= HUFF_LOOKAHEAD) {
        this.bits -= length;
        return;
      } else nb = HUFF_LOOKAHEAD + 1;
    } else if (length <= HUFF_LOOKAHEAD) {
      this.bits -= length;
      return;
    } else nb = HUFF_LOOKAHEAD + 1;
    // jpeg_huff_decode: nb bits, then one at a time
    this.take(nb);
    for (let l = nb; l < length; l++) this.take(1);
  }

  /** process_restart: bits dropped, reading resumes at `pos` (on a marker libjpeg left unread, or after the RST). */
  restart(pos: number, markerLeft: boolean): void {
    this.bits = 0;
    this.pos = pos;
    this.atMarker = markerLeft;
  }
}
