/**
 * Preprocessed images on disk, under `<cache_dir>/clip_image_crops/`: the uint8 centre crops that the
 * in-memory crop store of a sweep keeps (src/taskpool/clip-vision/image-cache.ts), one file per
 * (data set, rows read, image processor config). A job in another process — a joblib worker's first job,
 * a submitit or Slurm job with a shared cache dir — reads them instead of decoding and resizing every
 * image again. The file name carries a hash of the data files' contents, the data set's load options, the
 * rows and the processor config, so changing any of them misses the cache rather than reusing stale crops.
 *
 * A file is written whole under a temporary name and renamed (two workers writing one entry: each rename
 * puts a complete file in place, and both hold the same bytes); a reader checks the magic, the key and
 * the exact size and treats anything else as a miss.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ensureDir } from '../util/ensure-dir.js';

const MAGIC = 'FBCROPS1';
const FORMAT = 'fusion-bench.clip-image-crops.v1';

/** One preprocessed image: (height, width, 3) RGB bytes and its label. */
export interface DiskCrop {
  data: Uint8Array;
  height: number;
  width: number;
  label: number;
}

export interface CropKeyParts {
  /** The files the images come from (their contents are hashed). */
  files: readonly string[];
  /** How the data set is loaded (its config: columns, split, …). */
  dataset: unknown;
  /** The image processor's config (size, crop, resampling). */
  processor: unknown;
  /** The source rows, in the order they are evaluated. */
  rows: ArrayLike<number>;
}

export interface CropKey {
  /** File name inside the cache folder. */
  file: string;
  hash: string;
  rows: number;
}

export function cropCacheDir(cacheDir: string): string {
  return join(cacheDir, 'clip_image_crops');
}

/** Content hashes by (path, size, mtime, inode): a sweep's jobs in one process hash each data file once. */
const fileHashes = new Map<string, string>();

function fileHash(path: string): string {
  const st = statSync(path);
  const id = `${path}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  let h = fileHashes.get(id);
  if (h === undefined) {
    h = createHash('sha256').update(readFileSync(path)).digest('hex');
    fileHashes.set(id, h);
  }
  return h;
}

/** The key of these crops; null when the images come from no file (nothing to hash, nothing cached). */
export function cropCacheKey(p: CropKeyParts): CropKey | null {
  if (p.files.length === 0) return null;
  const h = createHash('sha256').update(JSON.stringify([FORMAT, p.dataset, p.processor, p.files.map(fileHash)]));
  h.update(new Uint8Array(Int32Array.from(p.rows).buffer));
  const hash = h.digest('hex');
  return { file: `${hash.slice(0, 40)}.bin`, hash, rows: p.rows.length };
}

interface Header {
  format: string;
  key: string;
  heights: number[];
  widths: number[];
  labels: number[];
}

/** The cached crops, in row order; null when absent, unreadable, incomplete or not for this key. */
export function readCrops(cacheDir: string, key: CropKey): DiskCrop[] | null {
  const path = join(cropCacheDir(cacheDir), key.file);
  let buf: Buffer;
  try {
    buf = readShared(path);
  } catch {
    return null;
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const headerLen = buf.readUInt32LE(8);
  if (12 + headerLen > buf.length) return null;
  let h: Header;
  try {
    h = JSON.parse(buf.toString('utf8', 12, 12 + headerLen)) as Header;
  } catch {
    return null;
  }
  const n = key.rows;
  if (h?.format !== FORMAT || h.key !== key.hash || !Array.isArray(h.heights) || h.heights.length !== n || h.widths?.length !== n || h.labels?.length !== n) return null;
  let offset = 12 + headerLen;
  const out: DiskCrop[] = [];
  for (let i = 0; i < n; i++) {
    const height = h.heights[i]!;
    const width = h.widths[i]!;
    const bytes = height * width * 3;
    if (!Number.isInteger(bytes) || bytes <= 0 || offset + bytes > buf.length) return null;
    out.push({ data: new Uint8Array(buf.buffer, buf.byteOffset + offset, bytes), height, width, label: h.labels[i]! });
    offset += bytes;
  }
  return offset === buf.length ? out : null;
}

/** Writes the crops (in row order) atomically; returns the file's path. */
/**
 * The file's bytes in a SharedArrayBuffer: the crops are views into it, and the preprocessing thread is
 * then sent them without a copy (a view of an ordinary buffer would be posted with the whole file).
 */
function readShared(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.from(new SharedArrayBuffer(size));
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, done);
      if (n === 0) throw new Error(`${path}: shorter than its size`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

export function writeCrops(cacheDir: string, key: CropKey, crops: readonly DiskCrop[]): string {
  if (crops.length !== key.rows) throw new RangeError(`writeCrops: ${crops.length} crops for a key of ${key.rows} rows`);
  const dir = cropCacheDir(cacheDir);
  ensureDir(dir, 'the image crop cache');
  const header = Buffer.from(JSON.stringify({
    format: FORMAT, key: key.hash,
    heights: crops.map((c) => c.height), widths: crops.map((c) => c.width), labels: crops.map((c) => c.label),
  } satisfies Header));
  let total = 12 + header.length;
  for (const c of crops) total += c.data.byteLength;
  const out = Buffer.allocUnsafe(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(header.length, 8);
  header.copy(out, 12);
  let offset = 12 + header.length;
  for (const c of crops) {
    out.set(c.data, offset);
    offset += c.data.byteLength;
  }
  const path = join(dir, key.file);
  writeFileAtomic(path, out);
  return path;
}

/** Whether a file for this key is in place (without reading it whole). */
export function hasCrops(cacheDir: string, key: CropKey): boolean {
  try {
    const fd = openSync(join(cropCacheDir(cacheDir), key.file), 'r');
    try {
      const b = Buffer.alloc(8);
      return readSync(fd, b, 0, 8, 0) === 8 && b.toString('latin1') === MAGIC;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
