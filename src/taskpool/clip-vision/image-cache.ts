/**
 * Preprocessed images kept in memory between evaluations (the jobs of a sweep evaluate every merged
 * model on the same images): per (dataset, image processor config), the uint8 centre crops by source
 * row. A crop is what resizing and cropping make of a decoded image, a quarter of its float pixels;
 * rescaling and normalising it again is a table look-up per byte. One store per process, bounded by
 * FUSION_BENCH_IMAGE_CACHE_MB (default 2048): past the budget, further images are recomputed each time.
 */
import type { SweepCache } from '../../run-context.js';

const MEMO_KEY = 'clip-image-cache';
const DEFAULT_MB = 2048;

export interface CachedCrop {
  /** (height, width, 3) RGB bytes. */
  data: Uint8Array;
  height: number;
  width: number;
  label: number;
}

export class ImageCropCache {
  private readonly sets = new Map<string, Map<number, CachedCrop>>();
  private used = 0;

  constructor(readonly budgetBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  get(key: string, row: number): CachedCrop | undefined {
    return this.sets.get(key)?.get(row);
  }

  /** Keeps the crop when the budget allows; false when it does not (the caller recomputes next time). */
  put(key: string, row: number, crop: CachedCrop): boolean {
    let set = this.sets.get(key);
    if (set?.has(row)) return true;
    if (this.used + crop.data.byteLength > this.budgetBytes) return false;
    if (set === undefined) {
      set = new Map();
      this.sets.set(key, set);
    }
    set.set(row, crop);
    this.used += crop.data.byteLength;
    return true;
  }
}

/** FUSION_BENCH_IMAGE_CACHE_MB as bytes (a number ≥ 0; 0 turns the cache off). */
export function imageCacheBudget(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FUSION_BENCH_IMAGE_CACHE_MB;
  const mb = raw === undefined || raw.trim() === '' ? DEFAULT_MB : Number(raw);
  return Number.isFinite(mb) && mb >= 0 ? Math.floor(mb * 1024 * 1024) : DEFAULT_MB * 1024 * 1024;
}

/** The sweep's crop store (in its cache, so it lives as long as the sweep). */
export function sharedImageCache(sweepCache: SweepCache): ImageCropCache {
  let c = sweepCache.get(MEMO_KEY) as ImageCropCache | undefined;
  if (c === undefined) {
    c = new ImageCropCache(imageCacheBudget());
    sweepCache.set(MEMO_KEY, c);
  }
  return c;
}
