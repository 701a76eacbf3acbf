/** The demo's tiny CLIP models (shipped in demo/) as a CLIP vision pool, with data sets from its parquet slices. */
import { join } from 'node:path';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { repoRoot } from '../helpers/paths.js';

export const demoDir = join(repoRoot, 'demo');

/** A `datasets.load_dataset` config of the demo's slice of `name` (mnist, fashion_mnist) as split `split`. */
export function demoDataset(name: string, split = 'test'): Record<string, unknown> {
  return { _target_: 'datasets.load_dataset', path: 'parquet', data_files: { [split]: join(demoDir, 'data', name, 'data', 'test-00000-of-00001.parquet') }, split };
}

export function demoPool(extra: Record<string, unknown> = {}): CLIPVisionModelPool {
  return new CLIPVisionModelPool({
    models: { _pretrained_: join(demoDir, 'models', 'tiny-clip'), mnist: join(demoDir, 'models', 'tiny-clip-mnist'), fashion_mnist: join(demoDir, 'models', 'tiny-clip-fashion_mnist') },
    processor: join(demoDir, 'models', 'tiny-clip'),
    platform: 'hf',
    ...extra,
  });
}
