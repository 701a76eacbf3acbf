/**
 * An image-classification split over parquet shards in the Hugging Face layout: an `image` column
 * (datasets' Image feature, a struct {bytes, path}, or plain bytes) and an integer `label` column.
 * Rows are read lazily, a row group at a time; the last few row groups stay cached.
 */
import { UserError } from '../errors.js';
import { decodeImageRGB, type DecodedImage } from '../image/decode.js';
import { labelNamesFromHfInfo, openShard, readRowGroup, type ParquetShard } from './parquet-shard.js';

export interface ImageClassificationExample {
  /** Encoded image bytes (PNG or JPEG), as stored. */
  image: Uint8Array;
  label: number;
}

export interface ImageClassificationFeatures {
  /** Class names when the data set declares them (datasets' ClassLabel). */
  labelNames?: string[];
}

export interface ImageClassificationOptions {
  /** Names the data set in error messages, e.g. "ylecun/mnist (split test)". */
  name: string;
  imageColumn?: string;
  labelColumn?: string;
  /** Class names from elsewhere (a dataset card); the parquet footer's features win when present. */
  labelNames?: string[];
  /** How many row groups stay in memory (default 2). */
  cachedRowGroups?: number;
}

interface Loaded {
  images: Uint8Array[];
  labels: Int32Array;
}

export class ImageClassificationDataset {
  readonly name: string;
  readonly length: number;
  readonly features: ImageClassificationFeatures;
  private readonly shards: ParquetShard[];
  /** Global row index where each shard starts (plus the total). */
  private readonly shardStarts: number[];
  private readonly imageColumn: string;
  private readonly labelColumn: string;
  private readonly cache = new Map<string, Promise<Loaded>>();
  private readonly cacheSize: number;

  private constructor(shards: ParquetShard[], opts: ImageClassificationOptions, labelNames: string[] | undefined) {
    this.name = opts.name;
    this.shards = shards;
    this.imageColumn = opts.imageColumn ?? 'image';
    this.labelColumn = opts.labelColumn ?? 'label';
    this.cacheSize = Math.max(1, opts.cachedRowGroups ?? 2);
    this.shardStarts = [0];
    for (const s of shards) this.shardStarts.push(this.shardStarts[this.shardStarts.length - 1]! + s.numRows);
    this.length = this.shardStarts[this.shardStarts.length - 1]!;
    this.features = labelNames ? { labelNames } : {};
  }

  /** Opens the shards (footers only) and checks that the image and label columns exist. */
  static async fromParquetFiles(files: readonly string[], opts: ImageClassificationOptions): Promise<ImageClassificationDataset> {
    if (files.length === 0) throw new UserError(`${opts.name}: no parquet files`);
    const imageColumn = opts.imageColumn ?? 'image';
    const labelColumn = opts.labelColumn ?? 'label';
    const shards: ParquetShard[] = [];
    for (const f of files) {
      const shard = await openShard(f, opts.name);
      for (const col of [imageColumn, labelColumn]) {
        if (!shard.columns.has(col)) {
          throw new UserError(`${opts.name}: ${f} has no '${col}' column (columns: ${[...shard.columns.keys()].join(', ')})`);
        }
      }
      const fields = shard.columns.get(imageColumn)!;
      if (fields.length > 0 && !fields.includes('bytes')) {
        throw new UserError(`${opts.name}: column '${imageColumn}' of ${f} is a struct without 'bytes' (fields: ${fields.join(', ')})`);
      }
      shards.push(shard);
    }
    if (shards.every((s) => s.numRows === 0)) {
      throw new UserError(`${opts.name}: its parquet file${files.length > 1 ? 's hold' : ' holds'} no rows (${files.join(', ')}): the split is empty`);
    }
    const fromFooter = labelNamesFromHfInfo(shards[0]!.hfInfo, labelColumn);
    return new ImageClassificationDataset(shards, opts, fromFooter ?? opts.labelNames);
  }

  /** Row i: the stored image bytes and the label (checked against the class names when known). */
  async get(i: number): Promise<ImageClassificationExample> {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`${this.name}: row ${i} is outside 0..${this.length - 1}`);
    let s = 0;
    while (this.shardStarts[s + 1]! <= i) s++;
    const shard = this.shards[s]!;
    const local = i - this.shardStarts[s]!;
    let rg = 0;
    while (shard.rowGroupStarts[rg + 1]! <= local) rg++;
    const loaded = await this.rowGroup(s, rg, i - local);
    const k = local - shard.rowGroupStarts[rg]!;
    return { image: loaded.images[k]!, label: loaded.labels[k]! };
  }

  /** Row i with its image decoded and converted to RGB (PIL's `convert("RGB")`). */
  async getRGB(i: number): Promise<{ image: DecodedImage; label: number }> {
    const ex = await this.get(i);
    return { image: decodeImageRGB(ex.image, `${this.name} row ${i}`), label: ex.label };
  }

  private rowGroup(s: number, rg: number, shardStart: number): Promise<Loaded> {
    const key = `${s}:${rg}`;
    let p = this.cache.get(key);
    if (p) {
      // Most recently used goes last.
      this.cache.delete(key);
      this.cache.set(key, p);
      return p;
    }
    p = this.load(s, rg, shardStart);
    this.cache.set(key, p);
    p.catch(() => this.cache.delete(key));
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return p;
  }

  private async load(s: number, rg: number, shardStart: number): Promise<Loaded> {
    const shard = this.shards[s]!;
    const rows = await readRowGroup(shard, rg, [this.imageColumn, this.labelColumn], this.name);
    const first = shardStart + shard.rowGroupStarts[rg]!;
    const n = rows.length;
    const images: Uint8Array[] = new Array(n);
    const labels = new Int32Array(n);
    const names = this.features.labelNames;
    for (let k = 0; k < n; k++) {
      const row = rows[k]!;
      const where = `${this.name} row ${first + k}`;
      const img = Object.hasOwn(row, this.imageColumn) ? row[this.imageColumn] : undefined;
      const bytes = img instanceof Uint8Array ? img : img && typeof img === 'object' ? (img as { bytes?: unknown }).bytes : undefined;
      if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
        const path = img && typeof img === 'object' && (img as { path?: unknown }).path;
        throw new UserError(`${where}: '${this.imageColumn}' holds no image bytes${path ? ' (only a path, which is not supported)' : ''}`);
      }
      images[k] = bytes;
      const raw = Object.hasOwn(row, this.labelColumn) ? row[this.labelColumn] : undefined;
      const label = typeof raw === 'bigint' ? Number(raw) : raw;
      if (typeof label !== 'number' || !Number.isInteger(label)) throw new UserError(`${where}: '${this.labelColumn}' is ${String(raw)}, not an integer class index`);
      if (label < 0 || label > 0x7fffffff || (names && label >= names.length)) {
        throw new UserError(`${where}: label ${label} is outside the classes 0..${names ? names.length - 1 : '∞'}${label < 0 ? ' (a missing label)' : ''}`);
      }
      labels[k] = label;
    }
    return { images, labels };
  }
}
