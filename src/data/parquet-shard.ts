/**
 * One parquet file of a dataset, read lazily: the footer once, then whole row groups on demand
 * (hyparquet reads a row group's column chunks in one go anyway). Byte arrays stay bytes (`utf8: false`).
 */
import { open, stat } from 'node:fs/promises';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { UserError } from '../errors.js';
import { PARQUET_COMPRESSORS, validateRowGroup } from './parquet-validate.js';

export interface ParquetShard {
  path: string;
  /** File size in bytes. */
  size: number;
  metadata: FileMetaData;
  /** Row index (within the file) where each row group starts, plus the total at the end. */
  rowGroupStarts: number[];
  numRows: number;
  /** Top-level column names, and for struct columns their field names. */
  columns: Map<string, string[]>;
  /** The `huggingface` key of the footer's key-value metadata (datasets' features), parsed; null if absent. */
  hfInfo: unknown;
}

/** An AsyncBuffer that opens the file for each slice (no descriptor stays open between reads). */
function fileBuffer(path: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = end === undefined ? size : Math.min(end, size);
      const len = Math.max(0, stop - start);
      const ab = new ArrayBuffer(len);
      if (len === 0) return ab;
      const fh = await open(path, 'r');
      try {
        let done = 0;
        while (done < len) {
          const { bytesRead } = await fh.read(new Uint8Array(ab, done), 0, len - done, start + done);
          if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + done}`);
          done += bytesRead;
        }
      } finally {
        await fh.close();
      }
      return ab;
    },
  };
}

/**
 * What went wrong in hyparquet's parsing, in words: its thrift reader recurses once per nested struct, so
 * a footer or page header nested thousands deep overflows the stack — a file no parquet writer makes.
 */
function parseFailure(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'its thrift metadata nests structures thousands deep, which no parquet writer does';
  return e instanceof Error ? e.message : String(e);
}

export async function openShard(path: string, what: string): Promise<ParquetShard> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new UserError(`${what}: cannot read ${path}: ${(e as Error).message}`);
  }
  const file = fileBuffer(path, size);
  let metadata: FileMetaData;
  try {
    // No GeoParquet marking: we read byte arrays as bytes, and hyparquet's marking loop steps through the
    // schema by each element's num_children, trusting it — a negative count looped forever (fuzz finding).
    metadata = await parquetMetadataAsync(file, { geoparquet: false });
  } catch (e) {
    throw new UserError(`${what}: ${path} is not a readable parquet file: ${parseFailure(e)}`);
  }
  const rowGroupStarts = [0];
  const columns = new Map<string, string[]>();
  try {
    // A footer can parse and still describe nonsense: checked here, inside the error handling.
    for (const [i, rg] of metadata.row_groups.entries()) {
      const n = Number(rg.num_rows);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`row group ${i} has ${String(rg.num_rows)} rows`);
      rowGroupStarts.push(rowGroupStarts[rowGroupStarts.length - 1]! + n);
    }
    for (const [i, el] of metadata.schema.entries()) {
      const c = el.num_children;
      if (c !== undefined && (!Number.isSafeInteger(c) || c < 0 || c >= metadata.schema.length)) {
        throw new Error(`schema element ${i} ('${el.name}') has ${String(c)} children`);
      }
    }
    for (const child of parquetSchema(metadata).children) columns.set(child.element.name, child.children.map((c) => c.element.name));
  } catch (e) {
    throw new UserError(`${what}: ${path} is not a readable parquet file: ${(e as Error).message}`);
  }
  let hfInfo: unknown = null;
  const kv = metadata.key_value_metadata?.find((e) => e.key === 'huggingface');
  if (kv?.value) {
    try {
      hfInfo = JSON.parse(kv.value);
    } catch {
      hfInfo = null; // a malformed hint is not worth failing for; labels are still range-checked when names are known
    }
  }
  return { path, size, metadata, rowGroupStarts, numRows: rowGroupStarts[rowGroupStarts.length - 1]!, columns, hfInfo };
}

/** Reads row group `rg` of the shard as objects with the given top-level columns. */
export async function readRowGroup(shard: ParquetShard, rg: number, columns: string[], what: string): Promise<Record<string, unknown>[]> {
  const file = fileBuffer(shard.path, shard.size);
  let rows: Record<string, unknown>[];
  try {
    // hyparquet trusts run lengths and page sizes (see parquet-validate.ts): check them first.
    await validateRowGroup(shard.metadata, rg, columns, (start, end) => file.slice(start, end) as Promise<ArrayBuffer>);
    rows = await parquetReadObjects({
      file,
      metadata: shard.metadata,
      columns,
      rowStart: shard.rowGroupStarts[rg]!,
      rowEnd: shard.rowGroupStarts[rg + 1]!,
      utf8: false,
      rowFormat: 'object',
      compressors: PARQUET_COMPRESSORS,
    });
  } catch (e) {
    throw new UserError(`${what}: cannot read row group ${rg} of ${shard.path}: ${parseFailure(e)}`, { cause: e });
  }
  const expected = shard.rowGroupStarts[rg + 1]! - shard.rowGroupStarts[rg]!;
  if (rows.length !== expected) {
    throw new UserError(`${what}: row group ${rg} of ${shard.path} holds ${rows.length} rows where its footer says ${expected}`);
  }
  return rows;
}

/** Class names of `column` from datasets' features in the footer (`{"info": {"features": {col: {"names": [...]}}}}`). */
export function labelNamesFromHfInfo(info: unknown, column: string): string[] | null {
  if (!info || typeof info !== 'object') return null;
  const features = (info as { info?: { features?: unknown } }).info?.features ?? (info as { features?: unknown }).features;
  if (!features || typeof features !== 'object') return null;
  const f = Object.hasOwn(features, column) ? (features as Record<string, unknown>)[column] : undefined;
  if (!f || typeof f !== 'object') return null;
  const names = (f as { names?: unknown }).names;
  return Array.isArray(names) ? names.map(String) : null;
}
