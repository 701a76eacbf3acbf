/**
 * The task pool's hook to the on-disk crop cache (src/image/crop-disk-cache.ts): before a task is
 * evaluated with a crop store, the crops of its rows come from `<cache_dir>` when another process (or an
 * earlier sweep) left them there; after it, a complete set decoded here is written for the next one.
 */
import { cropCacheKey, readCrops, writeCrops, type CropKey, type DiskCrop } from '../../image/crop-disk-cache.js';
import { SubsetDataset, type ImageRows } from '../../data/train-validation-split.js';
import type { ImageCropCache } from './image-cache.js';

export interface DiskCropsInput {
  cacheDir: string;
  /** The parquet files the rows come from. */
  files: readonly string[];
  /** The data set's load options. */
  dataset: unknown;
  processor: unknown;
  rows: ImageRows;
  /** Rows [0, end) are evaluated. */
  end: number;
  store: ImageCropCache;
  /** The in-memory store's key of this (data set, processor). */
  storeKey: string;
}

export interface DiskCrops {
  /** Crops put in the store from disk. */
  loaded: number;
  /** After the evaluation: writes the rows' crops when this process decoded them and all are in the store. */
  save(): void;
}

/** Null when there is nothing to do: every row is in memory already, or the rows come from no file. */
export function diskCrops(p: DiskCropsInput): DiskCrops | null {
  const subset = p.rows instanceof SubsetDataset ? p.rows : null;
  const end = Math.min(p.end, p.rows.length);
  const rows = new Int32Array(end);
  for (let i = 0; i < end; i++) rows[i] = subset ? subset.sourceRow(i) : i;
  if (rows.every((r) => p.store.get(p.storeKey, r) !== undefined)) return null;
  let key: CropKey | null;
  try {
    key = cropCacheKey({ files: p.files, dataset: p.dataset, processor: p.processor, rows });
  } catch {
    return null; // a data file that cannot be read is reported by the evaluation itself
  }
  if (key === null) return null;
  const k = key;
  const found = readCrops(p.cacheDir, k);
  if (found !== null) {
    let loaded = 0;
    for (let i = 0; i < found.length && p.store.put(p.storeKey, rows[i]!, found[i]!); i++) loaded++;
    return { loaded, save: () => {} };
  }
  return {
    loaded: 0,
    save() {
      const crops: DiskCrop[] = [];
      for (const r of rows) {
        const c = p.store.get(p.storeKey, r);
        if (c === undefined) return; // past the memory budget: not kept, not written
        crops.push(c);
      }
      try {
        writeCrops(p.cacheDir, k, crops);
      } catch {
        // a cache that cannot be written (read-only, full) costs the next job time, not this one its result
      }
    },
  };
}
