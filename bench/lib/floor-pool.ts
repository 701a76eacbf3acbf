/**
 * The benchmark pools of seeded random CLIP vision towers that merge-floor and methods share: a pretrained
 * tower and `count` fine-tuned ones (the pretrained weights plus noise), `layers` encoder layers, stored as
 * `dtype`, under os.tmpdir()/fusion-bench-floor-pool/<dtype>-layers<layers>. Generated once and reused
 * (a finished model.safetensors is renamed into place last).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DType } from '../../src/tensor/types.js';
import { writeRandomClipVisionModel } from './random-model.js';

export const FLOOR_POOL_CACHE = join(tmpdir(), 'fusion-bench-floor-pool');

export function poolDirFor(layers: number, dtype: DType): string {
  return join(FLOOR_POOL_CACHE, `${dtype}-layers${layers}`);
}

export function modelDirs(pool: string, count: number): { base: string; finetuned: string[] } {
  return { base: join(pool, 'pretrained'), finetuned: Array.from({ length: count }, (_, k) => join(pool, `ft-${k + 1}`)) };
}

/** Generates the models that are not in the cache yet; `who` names the bench in its progress lines. */
export function ensurePool(poolDir: string, count: number, layers: number, dtype: DType, who: string): void {
  mkdirSync(poolDir, { recursive: true });
  const { base, finetuned } = modelDirs(poolDir, count);
  const make = (dir: string, opts: Parameters<typeof writeRandomClipVisionModel>[1]) => {
    if (existsSync(join(dir, 'model.safetensors'))) return;
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`${who}: writing ${dir}\n`);
    writeRandomClipVisionModel(dir, { layers, dtype, ...opts });
  };
  make(base, { seed: 0 });
  finetuned.forEach((d, k) => make(d, { seed: k + 1, base: { seed: 0, noise: 0.05 } }));
}
