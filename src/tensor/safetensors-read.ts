/**
 * Reading one safetensors file lazily: the header is parsed and validated when the file is opened; each
 * tensor's bytes are read with one positioned read when it is asked for, never the whole file.
 *
 * Validation follows the Rust `safetensors` crate (which Python's `safetensors` uses): header length at
 * most 100 MB and inside the file, UTF-8 JSON object, every dtype known, shapes of non-negative integers,
 * byte length = numel × dtype size, data offsets covering the data section contiguously from 0 to its end
 * without gaps or overlaps, `__metadata__` a string → string map.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from '../errors.js';
import { DTYPE_SIZES, assertLittleEndianHost, decodeToF32, isDType } from './dtype.js';
import type { ReadBatch } from './io/read-batch.js';
import type { PieceFile } from './io/read-helper.js';
import { widenHalfInPlace } from './kernels/arena.js';
import type { DType, StateDict, TensorInfo } from './types.js';

/** The Rust crate's limit: larger headers are refused before anything is allocated for them. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Node reads at most 2 GiB − 1 per call; large tensors are read in pieces of this size. */
const READ_CHUNK = 1 << 30;

export interface SafetensorsEntry extends TensorInfo {
  /** Byte range inside the data section (which starts at `dataStart` in the file). */
  readonly begin: number;
  readonly end: number;
}

export class SafetensorsFile implements StateDict {
  readonly path: string;
  /** `__metadata__` of the header; empty when absent. */
  readonly metadata: Readonly<Record<string, string>>;
  /** File offset of the data section: 8 + header length. */
  readonly dataStart: number;
  readonly fileSize: number;
  private fd: number | null;
  private readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  private readonly order: readonly string[];

  /** Use `openSafetensors`. */
  constructor(path: string, fd: number, fileSize: number, dataStart: number, entries: Map<string, SafetensorsEntry>, order: string[], metadata: Record<string, string>) {
    this.path = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.dataStart = dataStart;
    this.entries = entries;
    this.order = Object.freeze(order);
    this.metadata = Object.freeze(metadata);
  }

  /** Names in storage order (by data offset); Python's `safe_open(...).keys()` would sort them by name. */
  names(): readonly string[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): TensorInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: e.shape };
  }

  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (e === undefined) throw new UserError(`${this.path}: no tensor named '${name}'`);
    return e;
  }

  /** The tensor's stored bytes (little-endian, its own dtype), for exact copies. */
  loadRaw(name: string): Uint8Array {
    const e = this.entry(name);
    const out = new Uint8Array(e.end - e.begin);
    this.readInto(name, out, this.dataStart + e.begin);
    return out;
  }

  loadF32(name: string): Float32Array {
    const e = this.entry(name);
    if (e.dtype === 'F32') {
      // Read straight into the result's memory: no second copy for the common case.
      const out = new Float32Array((e.end - e.begin) / 4);
      this.readInto(name, new Uint8Array(out.buffer), this.dataStart + e.begin);
      return out;
    }
    return decodeToF32(e.dtype, this.loadRaw(name), `${this.path}: tensor '${name}'`);
  }

  /**
   * The tensor as float32 in the caller's buffer (its first numel values; the view is returned): F32 is
   * read straight into it, F16/BF16 into its upper half and widened in place (exact), so that merging reads
   * with no allocation; other dtypes go through `loadF32`.
   */
  loadF32Into(name: string, out: Float32Array, batch?: ReadBatch): Float32Array {
    const e = this.entry(name);
    const n = (e.end - e.begin) / DTYPE_SIZES[e.dtype];
    if (out.length < n) throw new Error(`${this.path}: buffer of ${out.length} values is too small for tensor '${name}' (${n})`);
    return this.loadF32RangeInto(name, 0, out.subarray(0, n), batch);
  }

  /**
   * Values `start` … `start + out.length − 1` of the flat tensor into `out`, as `loadF32Into` reads
   * them: merging reads tensors in pieces that stay in the CPU cache between the read and the sum.
   */
  loadF32RangeInto(name: string, start: number, out: Float32Array, batch?: ReadBatch): Float32Array {
    const e = this.entry(name);
    const size = DTYPE_SIZES[e.dtype];
    const n = out.length;
    if (start < 0 || start + n > (e.end - e.begin) / size) throw new Error(`${this.path}: values ${start}..${start + n} are outside tensor '${name}'`);
    const at = this.dataStart + e.begin + start * size;
    if (e.dtype === 'F32') this.readInto(name, new Uint8Array(out.buffer, out.byteOffset, n * 4), at, batch);
    else if (e.dtype === 'F16' || e.dtype === 'BF16') {
      // into the upper half of `out` itself, widened in place: no second buffer to go through
      this.readInto(name, new Uint8Array(out.buffer, out.byteOffset + n * 2, n * 2), at, batch);
      const widen = () => widenHalfInPlace(out, e.dtype === 'BF16');
      if (batch) batch.then(widen);
      else widen();
    } else out.set(this.loadF32(name).subarray(start, start + n));
    return out;
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Where a float32/float16/bfloat16 tensor's values lie (their loadF32 is exactly those, widened). */
  pieceFile(name: string): PieceFile | null {
    const e = this.entry(name);
    if (this.fd === null || (e.dtype !== 'F32' && e.dtype !== 'F16' && e.dtype !== 'BF16')) return null;
    return { fd: this.fd, position: this.dataStart + e.begin, dtype: e.dtype };
  }

  /** Fills `out` from `position`, now or (with a batch) when the batch runs. */
  private readInto(name: string, out: Uint8Array, position: number, batch?: ReadBatch): void {
    if (this.fd === null) throw new Error(`${this.path}: read of '${name}' after close()`);
    if (batch) batch.read({ fd: this.fd, position, into: out, readHere: () => this.readInto(name, out, position) });
    else this.readNow(name, out, position);
  }

  private readNow(name: string, out: Uint8Array, position: number): void {
    if (this.fd === null) throw new Error(`${this.path}: read of '${name}' after close()`);
    let done = 0;
    while (done < out.byteLength) {
      const want = Math.min(READ_CHUNK, out.byteLength - done);
      const got = readSync(this.fd, out, done, want, position + done);
      if (got === 0) {
        throw new UserError(
          `${this.path}: file ends in the middle of tensor '${name}' (needs bytes up to ${position + out.byteLength}, ` +
            `the file has ${position + done}); was it truncated or changed while open?`,
        );
      }
      done += got;
    }
  }
}

/** Opens and validates a safetensors file; tensors are read on demand. Close it when done. */
export function openSafetensors(path: string): SafetensorsFile {
  assertLittleEndianHost();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot open safetensors file (${code ?? String(e)})`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UserError(`${path}: not a file (a safetensors file was expected here)`);
    const fileSize = st.size;
    const { headerLength, header } = readHeader(path, fd, fileSize);
    const parsed = parseHeader(path, header);
    const dataStart = 8 + headerLength;
    const order = checkLayout(path, parsed.entries, fileSize - dataStart);
    return new SafetensorsFile(path, fd, fileSize, dataStart, parsed.entries, order, parsed.metadata);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readExactly(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const got = readSync(fd, buf, done, length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done === length ? buf : buf.subarray(0, done);
}

function readHeader(path: string, fd: number, fileSize: number): { headerLength: number; header: unknown } {
  if (fileSize < 8) {
    throw new UserError(`${path}: not a safetensors file (${fileSize} bytes; the 8-byte header length is missing)`);
  }
  const lenBytes = readExactly(fd, 8, 0);
  const len = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (len > BigInt(MAX_HEADER_BYTES)) {
    throw new UserError(`${path}: safetensors header length ${len} is larger than the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  }
  const headerLength = Number(len);
  if (8 + headerLength > fileSize) {
    throw new UserError(`${path}: safetensors header length ${headerLength} runs past the end of the ${fileSize}-byte file (truncated or not a safetensors file)`);
  }
  const bytes = readExactly(fd, headerLength, 8);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${path}: safetensors header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  // JSON.parse keeps the last of two equal keys; the safetensors library refuses them, and so do we.
  const dup = duplicateTopLevelKey(text);
  if (dup !== null) throw new UserError(`${path}: safetensors header names tensor ${JSON.stringify(dup)} twice (duplicate key)`);
  return { headerLength, header };
}

/** The first key that appears twice in the top-level object of valid JSON text, or null. One pass, no recursion. */
export function duplicateTopLevelKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      expectKey = depth === 1 && c === 123;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 44 /* , */ && depth === 1) expectKey = true;
  }
  return null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseHeader(path: string, header: unknown): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  if (!isPlainObject(header)) throw new UserError(`${path}: safetensors header must be a JSON object`);
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (value === null) continue;
      if (!isPlainObject(value)) throw new UserError(`${path}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') {
          throw new UserError(`${path}: __metadata__ value for '${k}' must be a string, got ${JSON.stringify(v)}`);
        }
        // An own property even for `__proto__` (plain assignment would drop it).
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.set(name, parseEntry(path, name, value));
  }
  return { entries, metadata };
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseEntry(path: string, name: string, value: unknown): SafetensorsEntry {
  const where = `${path}: tensor '${name}'`;
  if (!isPlainObject(value)) throw new UserError(`${where}: header entry must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isDType(dtype)) {
    throw new UserError(`${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_SIZES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw new UserError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new UserError(`${where}: data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new UserError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  let n = 1;
  for (const d of shape as number[]) n *= d;
  const bytes = n * DTYPE_SIZES[dtype as DType];
  if (bytes !== end - begin) {
    throw new UserError(
      `${where}: shape ${JSON.stringify(shape)} of ${dtype} needs ${Number.isSafeInteger(bytes) ? bytes : 'more than 2^53'} bytes ` +
        `but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { dtype: dtype as DType, shape: Object.freeze([...(shape as number[])]), begin, end };
}

/** Checks that the tensors tile the data section exactly; returns the names in storage order. */
function checkLayout(path: string, entries: Map<string, SafetensorsEntry>, dataBytes: number): string[] {
  const order = [...entries.keys()];
  // Sort by (begin, end), as the Rust crate does before validating; ties keep header order.
  order.sort((a, b) => {
    const ea = entries.get(a)!;
    const eb = entries.get(b)!;
    return ea.begin - eb.begin || ea.end - eb.end;
  });
  let pos = 0;
  let prev: string | null = null;
  for (const name of order) {
    const e = entries.get(name)!;
    if (e.begin < pos) {
      throw new UserError(`${path}: tensor '${name}' (bytes ${e.begin}..${e.end}) overlaps tensor '${prev}' (which ends at ${pos})`);
    }
    if (e.begin > pos) {
      throw new UserError(
        `${path}: bytes ${pos}..${e.begin} of the data section belong to no tensor (gap before tensor '${name}'); ` +
          'data_offsets must cover the data section contiguously',
      );
    }
    if (e.end > dataBytes) {
      throw new UserError(
        `${path}: tensor '${name}' needs data bytes ${e.begin}..${e.end} but the file has only ${dataBytes} bytes of data ` +
          '(truncated download or copy?)',
      );
    }
    pos = e.end;
    prev = name;
  }
  if (pos !== dataBytes) {
    throw new UserError(`${path}: ${dataBytes - pos} bytes after the last tensor's data belong to no tensor (the data section must end with the last tensor)`);
  }
  return order;
}

// Model directories (single file or shards) are opened by checkpoint.ts; re-exported here for callers
// who look for it next to openSafetensors.
export { openCheckpoint, ShardedCheckpoint, type Checkpoint } from './checkpoint.js';
