/**
 * Test data sets: parquet files in the Hugging Face layout (an `image` struct {bytes, path} column and an
 * int64 `label`, datasets' features in the footer), and MNIST-style IDX files turned into PNG images.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import { parquetWriteFile } from 'hyparquet-writer';

export interface HfParquetSplit {
  split: string;
  /** Encoded images (PNG or JPEG bytes). */
  images: Uint8Array[];
  labels: number[];
  /** Class names written into datasets' features metadata. */
  labelNames?: string[];
  /** Write under `<config>/` instead of `data/`. */
  config?: string;
  rowGroupSize?: number;
  /** Override the file name inside the folder (default `<split>-00000-of-00001.parquet`). */
  fileName?: string;
  /** Column names (default image / label; a WebDataset export keeps its extensions, e.g. jpg / cls). */
  columns?: { image: string; label: string };
}

/** Writes one split; returns the parquet file's path. */
export function writeHfParquetDataset(dir: string, s: HfParquetSplit): string {
  if (s.images.length !== s.labels.length) throw new Error('writeHfParquetDataset: images and labels differ in length');
  const folder = join(dir, s.config ?? 'data');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, s.fileName ?? `${s.split}-00000-of-00001.parquet`);
  const { image, label } = s.columns ?? { image: 'image', label: 'label' };
  const features: Record<string, unknown> = { [image]: { _type: 'Image' }, [label]: s.labelNames ? { names: s.labelNames, _type: 'ClassLabel' } : { dtype: 'int64', _type: 'Value' } };
  const tmp = file + '.tmp';
  parquetWriteFile({
    filename: tmp,
    schema: [
      { name: 'schema', num_children: 2 },
      { name: image, repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: label, type: 'INT64', repetition_type: 'OPTIONAL' },
    ],
    columnData: [
      { name: image, data: s.images.map((bytes) => ({ bytes, path: null })) },
      { name: label, data: s.labels.map((l) => BigInt(l)) },
    ],
    kvMetadata: [{ key: 'huggingface', value: JSON.stringify({ info: { features } }) }],
    rowGroupSize: s.rowGroupSize ?? 1000,
  });
  renameSync(tmp, file);
  return file;
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

/** Reads a gzip-compressed IDX image file (magic 2051). */
export function readIdxImages(path: string): IdxImages {
  const b = gunzipSync(readFileSync(path));
  if (b.readUInt32BE(0) !== 2051) throw new Error(`${path}: not an IDX image file`);
  const count = b.readUInt32BE(4);
  const rows = b.readUInt32BE(8);
  const cols = b.readUInt32BE(12);
  return { count, rows, cols, pixels: new Uint8Array(b.buffer, b.byteOffset + 16, count * rows * cols) };
}

/** Reads a gzip-compressed IDX label file (magic 2049). */
export function readIdxLabels(path: string): Uint8Array {
  const b = gunzipSync(readFileSync(path));
  if (b.readUInt32BE(0) !== 2049) throw new Error(`${path}: not an IDX label file`);
  const count = b.readUInt32BE(4);
  return new Uint8Array(b.buffer, b.byteOffset + 8, count);
}

/** Images [start, start + n) of an IDX set as 8-bit greyscale PNGs (as the hub's MNIST parquet stores them), with labels. */
export function idxSliceAsPngs(imagesPath: string, labelsPath: string, start: number, n: number): { images: Uint8Array[]; labels: number[]; pixels: Uint8Array[] } {
  const idx = readIdxImages(imagesPath);
  const labels = readIdxLabels(labelsPath);
  const size = idx.rows * idx.cols;
  const out = { images: [] as Uint8Array[], labels: [] as number[], pixels: [] as Uint8Array[] };
  for (let i = start; i < start + n; i++) {
    const px = idx.pixels.slice(i * size, (i + 1) * size);
    out.pixels.push(px);
    out.images.push(encodePng({ width: idx.cols, height: idx.rows, channels: 1, depth: 8, data: px }));
    out.labels.push(labels[i]!);
  }
  return out;
}

/** Writes a dataset card (README.md) with YAML front matter. */
export function writeDatasetCard(dir: string, yamlBody: string): void {
  const p = join(dir, 'README.md');
  mkdirSync(dirname(p), { recursive: true });
  const tmp = p + '.tmp';
  writeFileSync(tmp, `---\n${yamlBody.trim()}\n---\n\n# Test data set\n`);
  renameSync(tmp, p);
}
