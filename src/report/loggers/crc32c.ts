import { crc32c } from '../../util/crc.js';

export { crc32c };

/** TFRecord's masked CRC: rotate right by 15 bits and add a constant, so CRCs of CRCs stay distinct. */
export function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
