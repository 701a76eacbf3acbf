/**
 * Limits checked on a PNG before it is decoded: the pixel count its header declares, and the size its
 * image data inflates to, which can be no more than the header allows (a few hundred kilobytes of IDAT
 * can otherwise inflate to gigabytes: a decompression bomb).
 */
import { constants, inflateSync } from 'node:zlib';
import { UserError } from '../errors.js';

/**
 * PIL refuses images above 2 × Image.MAX_IMAGE_PIXELS (DecompressionBombError): a few hundred bytes of
 * PNG can declare gigabytes of pixels.
 */
export const MAX_IMAGE_PIXELS = 2 * 89_478_485;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Bytes of filtered scanlines (one filter byte per row) for a width × height pass at `bits` per pixel. */
function scanlineBytes(width: number, height: number, bits: number): number {
  return width === 0 || height === 0 ? 0 : height * (1 + Math.ceil((width * bits) / 8));
}

/** What the IDAT stream of a PNG with this header inflates to, exactly (interlaced: the sum of the 7 passes). */
export function expectedInflatedBytes(width: number, height: number, bitDepth: number, colorType: number, interlace: number): number {
  const bits = bitDepth * (CHANNELS[colorType] ?? 4);
  if (interlace !== 1) return scanlineBytes(width, height, bits);
  // Adam7: [x0, y0, dx, dy] of each pass.
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    total += scanlineBytes(Math.ceil(Math.max(0, width - x0) / dx), Math.ceil(Math.max(0, height - y0) / dy), bits);
  }
  return total;
}

/**
 * Refuses a PNG whose header declares too many pixels, or whose IDAT data inflates to more than the
 * header allows; `what` names the image. Other damage is left for the decoder to report.
 */
export function checkPngLimits(bytes: Uint8Array, what: string): void {
  if (bytes.length < 33) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = view.getUint32(16);
  const h = view.getUint32(20);
  if (w * h > MAX_IMAGE_PIXELS) {
    throw new UserError(`${what}: image size ${w}x${h} (${w * h} pixels) exceeds the limit of ${MAX_IMAGE_PIXELS} pixels, could be a decompression bomb (as PIL refuses it)`);
  }
  const allowed = expectedInflatedBytes(w, h, bytes[24]!, bytes[25]!, bytes[28]!);
  const idat: Uint8Array[] = [];
  for (let p = 8; p + 12 <= bytes.length; ) {
    const len = view.getUint32(p);
    const type = view.getUint32(p + 4);
    if (p + 12 + len > bytes.length) break;
    if (type === 0x49444154) idat.push(bytes.subarray(p + 8, p + 8 + len));
    else if (type === 0x49454e44) break;
    p += 12 + len;
  }
  if (idat.length === 0) return;
  try {
    // zlib stops as soon as the output would pass the allowance.
    inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(1, allowed), finishFlush: constants.Z_SYNC_FLUSH });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new UserError(`${what}: its image data inflates to more than the ${allowed} bytes its ${w}x${h} header allows, could be a decompression bomb`);
    }
    // Corrupt data: the decoder reports it.
  }
}
