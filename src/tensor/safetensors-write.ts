/**
 * Writing a state dict as safetensors, streamed: the header is built from `info()` alone, then tensors
 * are loaded, converted and written one at a time, so memory holds one tensor whatever the model size.
 *
 * The bytes match Python's `safetensors.torch.save_file`: tensors sorted by descending dtype alignment,
 * then by name; compact JSON header with `__metadata__` first, padded with spaces to a multiple of 8.
 * Above `maxShardBytes` the output is split like transformers' `save_pretrained` (huggingface_hub's
 * `split_state_dict_into_shards`): `model-00001-of-00003.safetensors` … plus `model.safetensors.index.json`.
 *
 * Every file is written under a temporary name in the destination directory and renamed into place at
 * the end, so readers see the old checkpoint or the new one, never half a file; on an error or abort
 * the temporary files are removed.
 */
import { trackTemp, untrackTemp } from '../util/cleanup.js';
import { fsReason, isDiskError } from '../util/ensure-dir.js';
import { removeDeadTemps } from '../util/stale-temps.js';
import { writeFully, writeFullyAt } from '../util/write-fully.js';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { DTYPE_SIZES, encodeFromF32, f32ToBf16, f32ToF16, isDType, numel } from './dtype.js';
import { narrowHalfInPlace } from './kernels/arena.js';
import type { DType, StateDict, TensorInfo } from './types.js';

export interface WriteSafetensorsOptions {
  /** Output dtype per tensor; default: the source's dtype. */
  dtypes?: (name: string, info: TensorInfo) => DType;
  /** `__metadata__`; `format: pt` is always set, as transformers does. */
  metadata?: Record<string, string>;
  /** Split into shards when the tensors' bytes exceed this (see `parseShardSize` for "5GB"). */
  maxShardBytes?: number;
  /** Tensors to write, in this order (default: `source.names()`). */
  names?: readonly string[];
  /** Checked between tensors by `writeSafetensors` (the async form). */
  signal?: AbortSignal;
  /**
   * fsync each file before renaming it into place (default false, as Python's writers): the rename
   * already keeps an interrupted process from leaving a partial file under the final name; fsync adds
   * safety against power loss at about a second per 350 MB on this machine's disk.
   */
  fsync?: boolean;
  /** Called after each tensor with the bytes written so far and the total (for a progress bar). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface WrittenCheckpoint {
  /** The safetensors files written, in shard order. */
  readonly files: readonly string[];
  /** `model.safetensors.index.json` when sharded, else null. */
  readonly indexPath: string | null;
  /** Sum of the tensors' byte sizes (the index's `metadata.total_size`). */
  readonly totalBytes: number;
}

/** Python's Dtype enum order (increasing alignment); the writer sorts by it, descending. */
const DTYPE_RANK: Readonly<Record<DType, number>> = {
  BOOL: 0, U8: 1, I8: 2, I16: 5, U16: 6, F16: 7, BF16: 8, I32: 9, U32: 10, F32: 11, F64: 12, I64: 13, U64: 14,
};

interface PlannedTensor {
  readonly name: string;
  readonly source: TensorInfo;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bytes: number;
}

/** Streams `source` to `path` (and shards next to it). Yields to the event loop between tensors. */
export async function writeSafetensors(path: string, source: StateDict, opts: WriteSafetensorsOptions = {}): Promise<WrittenCheckpoint> {
  const steps = writeSteps(path, source, opts);
  for (;;) {
    if (opts.signal?.aborted) {
      steps.return(undefined as never); // runs the generator's cleanup
      throw opts.signal.reason ?? new Error('aborted');
    }
    const s = steps.next();
    if (s.done) return s.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The same as `writeSafetensors`, blocking. */
export function writeSafetensorsSync(path: string, source: StateDict, opts: WriteSafetensorsOptions = {}): WrittenCheckpoint {
  const steps = writeSteps(path, source, opts);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
  }
}

/** "5GB", "500MB", "10KB", or a plain number of bytes, as huggingface_hub parses `max_shard_size`. */
export function parseShardSize(size: string | number): number {
  if (typeof size === 'number') {
    if (!Number.isSafeInteger(size) || size <= 0) throw new UserError(`max shard size must be a positive integer number of bytes, got ${size}`);
    return size;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(TB|GB|MB|KB|B)?\s*$/i.exec(size);
  if (m === null) throw new UserError(`max shard size ${JSON.stringify(size)}: expected a number with an optional unit (KB, MB, GB, TB), e.g. "5GB"`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const mult = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[unit]!;
  return Math.floor(Number(m[1]) * mult);
}

function plan(source: StateDict, opts: WriteSafetensorsOptions): PlannedTensor[] {
  const names = opts.names ?? source.names();
  const seen = new Set<string>();
  const out: PlannedTensor[] = [];
  for (const name of names) {
    if (seen.has(name)) throw new Error(`writeSafetensors: tensor '${name}' listed twice`);
    seen.add(name);
    const info = source.info(name);
    const dtype = opts.dtypes ? opts.dtypes(name, info) : info.dtype;
    if (!isDType(dtype)) throw new UserError(`tensor '${name}': unknown output dtype ${JSON.stringify(dtype)}`);
    const shape = [...info.shape];
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`tensor '${name}': bad shape ${JSON.stringify(shape)}`);
    out.push({ name, source: info, dtype, shape, bytes: numel(shape) * DTYPE_SIZES[dtype] });
  }
  return out;
}

/** huggingface_hub's greedy split, in the given order; tensors larger than the limit get a shard of their own. */
function splitShards(tensors: PlannedTensor[], maxBytes: number | undefined): PlannedTensor[][] {
  if (maxBytes === undefined) return [tensors];
  const shards: PlannedTensor[][] = [];
  let current: PlannedTensor[] = [];
  let currentBytes = 0;
  for (const t of tensors) {
    if (t.bytes > maxBytes) {
      shards.push([t]);
      continue;
    }
    if (currentBytes + t.bytes > maxBytes && current.length > 0) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(t);
    currentBytes += t.bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/** Rust's `String` order is byte-wise on UTF-8, which is code-point order. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function fileLayout(tensors: PlannedTensor[], metadata: Record<string, string>): { order: PlannedTensor[]; header: Uint8Array } {
  const order = [...tensors].sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareNames(a.name, b.name));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of order) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes] };
    offset += t.bytes;
  }
  if (order.some((t) => t.name === '__metadata__')) throw new UserError(`a tensor cannot be named '__metadata__'`);
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, 0x20);
  json.copy(padded);
  const out = new Uint8Array(8 + padded.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded.length), true);
  out.set(padded, 8);
  return { order, header: out };
}

/** A source that can fill a caller's buffer (merged models can): the writer then reuses one buffer. */
interface FillsBuffer {
  loadF32Into(name: string, out: Float32Array): Float32Array;
}
function fillsBuffer(sd: StateDict): sd is StateDict & FillsBuffer {
  return typeof (sd as Partial<FillsBuffer>).loadF32Into === 'function';
}

/**
 * A source whose values may stay in its own memory until the next read (merged models); until then the
 * writer may also overwrite them (half-precision rounding in place).
 */
interface LendsBuffer {
  loadF32Transient(name: string, out: Float32Array): Float32Array;
}
function lendsBuffer(sd: StateDict): sd is StateDict & LendsBuffer {
  return typeof (sd as Partial<LendsBuffer>).loadF32Transient === 'function';
}

/**
 * A source that can write the buffers it lends (loadF32Transient) on another thread while it computes
 * the next tensors (merged models with a helper thread). One write is in flight at a time, and the
 * source lends no buffer it is writing from: the writer may write smaller tensors itself meanwhile.
 */
export interface WriteBehind {
  /**
   * Settles the write in flight, then starts writing `bytes` at `position` of `fd`; false where it
   * cannot (the caller writes them).
   */
  start(fd: number, bytes: Uint8Array, position: number): boolean;
  /** Waits for the write in flight; one that failed is written again here, throwing its real error. */
  settle(): void;
}

/** Tensors smaller than this are written on the spot: handing them over would cost more than it hides. */
const BEHIND_MIN_BYTES = 1 << 20;
interface WritesBehind {
  writeBehind(): WriteBehind;
}
function writesBehind(sd: StateDict): sd is StateDict & WritesBehind {
  return typeof (sd as Partial<WritesBehind>).writeBehind === 'function';
}

/** One reusable float32 buffer per write: fresh memory per tensor costs page faults (~1 ms per MB here). */
class F32Scratch {
  private buf = new Float32Array(0);
  private halfBuf = new Uint16Array(0);
  get(n: number): Float32Array {
    if (this.buf.length < n) this.buf = new Float32Array(n);
    return this.buf.subarray(0, n);
  }
  /** The float16/bfloat16 encoding's buffer, reused likewise. */
  half(n: number): Uint16Array {
    if (this.halfBuf.length < n) this.halfBuf = new Uint16Array(n);
    return this.halfBuf.subarray(0, n);
  }
}

/**
 * float32 → the bytes of `dtype`; half precision into the scratch's buffer, or in place where `lent`
 * (a merge's buffer, the writer's to overwrite) lies in a kernel arena.
 */
function encode(dtype: DType, data: Float32Array, what: string, scratch: F32Scratch, lent: boolean): Uint8Array {
  if (dtype !== 'F16' && dtype !== 'BF16') return encodeFromF32(dtype, data, what);
  const inPlace = lent ? narrowHalfInPlace(data, dtype === 'BF16') : null;
  if (inPlace !== null) return inPlace;
  const h = (dtype === 'F16' ? f32ToF16 : f32ToBf16)(data, scratch.half(data.length));
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
}

function tensorBytes(source: StateDict, t: PlannedTensor, scratch: F32Scratch): Uint8Array {
  let bytes: Uint8Array;
  const n = numel(t.shape);
  const half = t.dtype === 'F16' || t.dtype === 'BF16';
  // A merge computes float32 into its own buffers (where its kernels run) and lends them: half-precision
  // tensors are then rounded in place there, not by a merge into a fresh array and a JavaScript loop.
  const lent = lendsBuffer(source);
  if (t.dtype === t.source.dtype && source.loadRaw !== undefined && !(t.dtype === 'F32' && fillsBuffer(source)) && !(half && lent)) {
    bytes = source.loadRaw(t.name);
  } else {
    const data = lent
      ? source.loadF32Transient(t.name, scratch.get(n))
      : fillsBuffer(source) ? source.loadF32Into(t.name, scratch.get(n)) : source.loadF32(t.name);
    if (data.length !== numel(t.shape)) {
      throw new Error(`tensor '${t.name}': loadF32 returned ${data.length} values for shape ${JSON.stringify(t.shape)}`);
    }
    bytes = encode(t.dtype, data, `tensor '${t.name}'`, scratch, lent);
  }
  if (bytes.byteLength !== t.bytes) {
    throw new Error(`tensor '${t.name}': got ${bytes.byteLength} bytes, the header promises ${t.bytes}`);
  }
  return bytes;
}

function tempName(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Python's `json.dumps(obj, indent=2, sort_keys=True)` (ensure_ascii) for the shard index. */
function pythonIndexJson(totalSize: number, weightMap: Map<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const k of [...weightMap.keys()].sort(compareNames)) sorted[k] = weightMap.get(k)!;
  const text = JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2);
  return text.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '\n';
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function* writeSteps(path: string, source: StateDict, opts: WriteSafetensorsOptions): Generator<void, WrittenCheckpoint, void> {
  const dir = dirname(path);
  const base = basename(path);
  if (!existsSync(dir)) throw new UserError(`${path}: output directory ${dir} does not exist`);
  removeDeadTemps(dir);
  const stem = base.endsWith('.safetensors') ? base.slice(0, -'.safetensors'.length) : base;
  const metadata = { ...(opts.metadata ?? {}), format: 'pt' };
  const maxShard = opts.maxShardBytes === undefined ? undefined : parseShardSize(opts.maxShardBytes);
  const tensors = plan(source, opts);
  const totalBytes = tensors.reduce((s, t) => s + t.bytes, 0);
  const shards = splitShards(tensors, maxShard);
  const sharded = shards.length > 1;
  const finals = sharded
    ? shards.map((_, i) => join(dir, `${stem}-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`))
    : [path];
  const indexPath = sharded ? join(dir, `${base}.index.json`) : null;

  const temps: string[] = [];
  const scratch = new F32Scratch();
  const behind = writesBehind(source) ? source.writeBehind() : null;
  let written = 0;
  let fd: number | null = null;
  let committed = false;
  let writing = path;
  try {
    for (let s = 0; s < shards.length; s++) {
      writing = finals[s]!;
      const { order, header } = fileLayout(shards[s]!, metadata);
      const tmp = tempName(finals[s]!);
      temps.push(tmp);
      trackTemp(tmp);
      fd = openSync(tmp, 'wx');
      writeFully(fd, header);
      let at = header.byteLength;
      for (const t of order) {
        const bytes = tensorBytes(source, t, scratch);
        if (behind === null) writeFully(fd, bytes);
        else if (bytes.byteLength < BEHIND_MIN_BYTES || !behind.start(fd, bytes, at)) writeFullyAt(fd, bytes, at);
        at += t.bytes;
        written += t.bytes;
        opts.onProgress?.(written, totalBytes);
        yield;
      }
      behind?.settle();
      if (opts.fsync === true) fsyncSync(fd);
      closeSync(fd);
      fd = null;
    }
    let indexTmp: string | null = null;
    if (indexPath !== null) {
      const weightMap = new Map<string, string>();
      shards.forEach((shard, i) => shard.forEach((t) => weightMap.set(t.name, basename(finals[i]!))));
      writing = indexPath;
      indexTmp = tempName(indexPath);
      temps.push(indexTmp);
      trackTemp(indexTmp);
      fd = openSync(indexTmp, 'wx');
      writeFully(fd, Buffer.from(pythonIndexJson(totalBytes, weightMap), 'utf8'));
      if (opts.fsync === true) fsyncSync(fd);
      closeSync(fd);
      fd = null;
    }
    // Shards first, the index last: a reader never finds an index naming shards that are not there yet.
    for (let s = 0; s < finals.length; s++) renameSync(temps[s]!, finals[s]!);
    if (indexTmp !== null) renameSync(indexTmp, indexPath!);
    committed = true;
    removeStale(dir, base, stem, new Set(finals.map((f) => basename(f))), sharded);
    return { files: finals, indexPath, totalBytes };
  } catch (e) {
    if (isDiskError(e)) throw new UserError(`cannot write ${writing}: ${fsReason(e)}`, { cause: e });
    throw e;
  } finally {
    if (fd !== null) {
      try {
        behind?.settle(); // no write may still run on a file being closed
      } catch {
        // the error that brought us here is the one to report
      }
      closeSync(fd);
    }
    if (!committed) for (const t of temps) removeQuietly(t);
    for (const t of temps) untrackTemp(t);
  }
}

/**
 * Removes what an earlier save left in the way: old shards of the same name that the new set does not
 * reuse (as transformers does), and the other layout's entry point — a stale `model.safetensors` would
 * otherwise shadow new shards, and a stale index would describe shards that no longer match.
 */
function removeStale(dir: string, base: string, stem: string, keep: Set<string>, sharded: boolean): void {
  const shardPattern = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{5}-of-\\d{5}\\.safetensors$`);
  for (const f of readdirSync(dir)) {
    if (shardPattern.test(f) && !keep.has(f)) removeQuietly(join(dir, f));
  }
  if (sharded) removeQuietly(join(dir, base));
  else removeQuietly(join(dir, `${base}.index.json`));
}
