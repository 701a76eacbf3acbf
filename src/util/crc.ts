/** Table-driven CRC-32 variants (reflected, 0xffffffff in and out): zip's CRC-32 and TFRecord's CRC-32C. */
function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

function crcWith(t: Uint32Array, data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC32 = table(0xedb88320);
const CRC32C = table(0x82f63b78);

/** CRC-32 (IEEE 802.3), as zip files carry it. */
export const crc32 = (data: Uint8Array): number => crcWith(CRC32, data);
/** CRC-32C (Castagnoli), as TFRecord files carry it. */
export const crc32c = (data: Uint8Array): number => crcWith(CRC32C, data);
