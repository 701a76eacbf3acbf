/**
 * Checks a row group's column chunks before hyparquet decodes them. hyparquet trusts the run lengths of
 * its RLE / bit-packed hybrid streams: a run of length 0 where no byte is consumed loops forever, and a
 * run longer than the page grows an array to billions of entries. It also allocates whatever size a page
 * header claims. Here every page header is read, every hybrid stream (repetition and definition levels,
 * dictionary indices, RLE booleans) is walked run by run with hyparquet's own reading rules, and sizes are
 * bounded; anything that would hang or explode is an Error naming the column and page.
 * (The upstream report is in fuzz/README.md.)
 */
import type { ColumnMetaData, FileMetaData, PageHeader, SchemaTree } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getSchemaPath } from 'hyparquet/src/schema.js';
import type { Compressors } from 'hyparquet';
import { snappyUncompress } from './snappy.js';

/** Decompressors our reading path gives hyparquet (its own snappy decoder can spin on bad lengths). */
export const PARQUET_COMPRESSORS: Compressors = { SNAPPY: snappyUncompress };

/** Most values one page may declare: far above any dataset page, far below what exhausts memory. */
export const MAX_PAGE_VALUES = 1 << 26;
/** Most bytes one page may inflate to. */
export const MAX_PAGE_BYTES = 1 << 30;

export class ParquetDataError extends Error {
  override name = 'ParquetDataError';
}

interface Reader {
  view: DataView;
  offset: number;
}

function bitWidth(v: number): number {
  return 32 - Math.clz32(v);
}

/** An unsigned LEB128 varint of at most 5 bytes, inside `end`. */
function varint(r: Reader, end: number, what: string): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (r.offset >= end) throw new ParquetDataError(`${what}: run header runs past the end of its data`);
    const b = r.view.getUint8(r.offset++);
    result += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return result;
  }
  throw new ParquetDataError(`${what}: run header is longer than 5 bytes`);
}

/**
 * Walks one hybrid stream as hyparquet's readRleBitPackedHybrid reads it (until `n` values are seen),
 * refusing runs that make no progress, RLE runs past `n`, and reads past `end`. With `countValue`, also
 * returns how many decoded values equal it (for the null count of definition levels).
 */
function walkHybrid(r: Reader, width: number, n: number, end: number, what: string, countValue = -1): number {
  let seen = 0;
  let matches = 0;
  const valueBytes = (width + 7) >> 3;
  while (seen < n) {
    const header = varint(r, end, what);
    if (header > 0x7fffffff) throw new ParquetDataError(`${what}: run header ${header} is out of range`);
    if (header & 1) {
      const groups = header >>> 1;
      if (groups === 0) throw new ParquetDataError(`${what}: a bit-packed run of length 0`);
      // hyparquet counts the run's values in 32-bit ints (a run past 2^28 groups wraps negative and never
      // ends); a run may pad its last group, but not run on far past the values the page holds.
      if (groups * 8 > n - seen + 504) throw new ParquetDataError(`${what}: a bit-packed run of ${groups * 8} values where ${n - seen} remain`);
      const bytes = groups * width;
      // hyparquet reads the first byte of a run even at width 0
      if (r.offset + Math.max(bytes, width === 0 ? 0 : 1) > end) throw new ParquetDataError(`${what}: a bit-packed run of ${groups * 8} values runs past the end of its data`);
      if (countValue >= 0) {
        const take = Math.min(groups * 8, n - seen);
        for (let i = 0; i < take; i++) {
          const bit = i * width;
          let v = 0;
          for (let k = 0; k < width; k++) {
            const p = bit + k;
            v |= ((r.view.getUint8(r.offset + (p >> 3)) >> (p & 7)) & 1) << k;
          }
          if (v === countValue) matches++;
        }
      }
      r.offset += bytes;
      seen += groups * 8;
    } else {
      const count = header >>> 1;
      if (count === 0) throw new ParquetDataError(`${what}: an RLE run of length 0`);
      if (count > n - seen) throw new ParquetDataError(`${what}: an RLE run of ${count} values where ${n - seen} remain`);
      if (r.offset + valueBytes > end) throw new ParquetDataError(`${what}: an RLE run runs past the end of its data`);
      let v = 0;
      for (let i = 0; i < valueBytes; i++) v |= r.view.getUint8(r.offset + i) << (8 * i);
      r.offset += valueBytes;
      if (v === countValue) matches += count;
      seen += count;
    }
  }
  return matches;
}

/** A length-prefixed hybrid stream (4-byte little-endian length); the reader ends after it, as hyparquet's does. */
function walkPrefixed(r: Reader, width: number, n: number, what: string, countValue = -1): number {
  const end = r.view.byteLength;
  if (r.offset + 4 > end) throw new ParquetDataError(`${what}: missing length`);
  const len = r.view.getUint32(r.offset, true);
  r.offset += 4;
  const start = r.offset;
  if (start + len > end) throw new ParquetDataError(`${what}: length ${len} runs past the end of the page`);
  const matches = walkHybrid(r, width, n, end, what, countValue);
  r.offset = start + len;
  return matches;
}

function checkCount(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_PAGE_VALUES) {
    throw new ParquetDataError(`${what}: value count ${String(v)} is not an integer from 0 to ${MAX_PAGE_VALUES}`);
  }
  return v;
}

function checkSize(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ParquetDataError(`${what}: size ${String(v)} is out of range (0 to ${max})`);
  return v;
}

/**
 * Most bytes `compressed` bytes can inflate to under `codec`: snappy's densest op (a 3-byte copy of 64
 * bytes) gives under 22×; stored pages do not grow. A header claiming more would have hyparquet allocate
 * (and its snappy decoder fill) memory the data cannot hold. Other codecs are refused by hyparquet itself.
 */
function maxInflated(codec: string, compressed: number): number {
  if (codec === 'UNCOMPRESSED') return compressed;
  if (codec === 'SNAPPY') return 22 * compressed + 32;
  return MAX_PAGE_BYTES;
}

function inflate(body: Uint8Array, size: number, codec: ColumnMetaData['codec'], what: string): Uint8Array {
  if (size > maxInflated(codec, body.length)) throw new ParquetDataError(`${what}: ${body.length} bytes of ${codec} data cannot inflate to the ${size} bytes its header claims`);
  return decompressPage(body, size, codec, PARQUET_COMPRESSORS);
}

function pageView(bytes: Uint8Array): Reader {
  return { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
}

function checkPage(header: PageHeader, body: Uint8Array, meta: ColumnMetaData, path: SchemaTree[], what: string): void {
  const maxRep = getMaxRepetitionLevel(path);
  const maxDef = getMaxDefinitionLevel(path);
  const type = meta.type;
  const uncompressed = checkSize(header.uncompressed_page_size, `${what}: uncompressed page`, MAX_PAGE_BYTES);
  if (header.type === 'DATA_PAGE') {
    const h = header.data_page_header;
    if (!h) throw new ParquetDataError(`${what}: data page without its header`);
    const n = checkCount(h.num_values, what);
    const r = pageView(inflate(body, uncompressed, meta.codec, what));
    if (maxRep > 0 && path.length > 1) walkPrefixed(r, bitWidth(maxRep), n, `${what}, repetition levels`);
    const defined = maxDef > 0 ? walkPrefixed(r, bitWidth(maxDef), n, `${what}, definition levels`, maxDef) : n;
    const enc = h.encoding;
    if (enc === 'PLAIN_DICTIONARY' || enc === 'RLE_DICTIONARY' || enc === 'RLE') {
      if (type === 'BOOLEAN') walkPrefixed(r, 1, defined, `${what}, values`);
      else {
        if (r.offset >= r.view.byteLength) throw new ParquetDataError(`${what}: dictionary indices missing`);
        const width = r.view.getUint8(r.offset++);
        if (width > 32) throw new ParquetDataError(`${what}: dictionary index width ${width} is over 32 bits`);
        if (width > 0) walkHybrid(r, width, defined, r.view.byteLength, `${what}, dictionary indices`);
      }
    }
  } else if (header.type === 'DATA_PAGE_V2') {
    const h = header.data_page_header_v2;
    if (!h) throw new ParquetDataError(`${what}: data page v2 without its header`);
    const n = checkCount(h.num_values, what);
    const nulls = checkCount(h.num_nulls, `${what} (nulls)`);
    if (nulls > n) throw new ParquetDataError(`${what}: ${nulls} nulls among ${n} values`);
    const repLen = checkSize(h.repetition_levels_byte_length, `${what}: repetition levels`, body.length);
    const defLen = checkSize(h.definition_levels_byte_length, `${what}: definition levels`, body.length - repLen);
    const levels = pageView(body);
    if (maxRep > 0) walkHybrid(levels, bitWidth(maxRep), n, body.length, `${what}, repetition levels`);
    levels.offset = repLen;
    if (maxDef > 0) walkHybrid(levels, bitWidth(maxDef), n, body.length, `${what}, definition levels`);
    const valuesSize = uncompressed - repLen - defLen;
    if (valuesSize < 0) throw new ParquetDataError(`${what}: levels are larger than the page`);
    let values = body.subarray(repLen + defLen);
    if (h.is_compressed !== false && valuesSize) values = inflate(values, valuesSize, meta.codec, what);
    const r = pageView(values);
    const enc = h.encoding;
    if (enc === 'RLE') walkPrefixed(r, 1, n - nulls, `${what}, values`);
    else if (enc === 'PLAIN_DICTIONARY' || enc === 'RLE_DICTIONARY') {
      if (r.offset >= r.view.byteLength) throw new ParquetDataError(`${what}: dictionary indices missing`);
      const width = r.view.getUint8(r.offset++);
      if (width > 32) throw new ParquetDataError(`${what}: dictionary index width ${width} is over 32 bits`);
      walkHybrid(r, width, n - nulls, r.view.byteLength, `${what}, dictionary indices`);
    }
  } else if (header.type === 'DICTIONARY_PAGE') {
    const h = header.dictionary_page_header;
    if (!h) throw new ParquetDataError(`${what}: dictionary page without its header`);
    checkCount(h.num_values, what);
    inflate(body, uncompressed, meta.codec, what);
  }
}

/**
 * Checks the chunks of the given top-level columns in row group `rg`, whose bytes `read(start, end)`
 * returns. Throws ParquetDataError (or hyparquet's own Error for a corrupt page header).
 */
export async function validateRowGroup(
  metadata: FileMetaData,
  rg: number,
  columns: readonly string[],
  read: (start: number, end: number) => Promise<ArrayBuffer>,
): Promise<void> {
  const group = metadata.row_groups[rg];
  if (!group) throw new ParquetDataError(`row group ${rg} is missing`);
  for (const chunk of group.columns) {
    const meta = chunk.meta_data;
    if (!meta) throw new ParquetDataError(`row group ${rg}: a column chunk without metadata`);
    if (!columns.includes(meta.path_in_schema[0]!)) continue;
    const name = meta.path_in_schema.join('.');
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const size = Number(meta.total_compressed_size);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start < 0 || size < 0) {
      throw new ParquetDataError(`row group ${rg}, column ${name}: chunk offset ${start} / size ${size} out of range`);
    }
    const path = getSchemaPath(metadata.schema, meta.path_in_schema);
    const bytes = new Uint8Array(await read(start, start + size));
    const r: Reader = pageView(bytes);
    // Every page of the chunk, as hyparquet reads nested columns (flat ones stop once enough rows are read).
    for (let page = 0; r.offset < bytes.length - 1; page++) {
      const what = `row group ${rg}, column ${name}, page ${page}`;
      const header = parquetHeader(r);
      const compressed = checkSize(header.compressed_page_size, `${what}: compressed page`, bytes.length - r.offset);
      const body = bytes.subarray(r.offset, r.offset + compressed);
      r.offset += compressed;
      checkPage(header, body, meta, path, what);
    }
  }
}
