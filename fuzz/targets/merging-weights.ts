/** Merging-weight files (AdaMerging's `weights: FILE`): .pt through the tensor-only unpickler, .npy, .safetensors. */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTensorFile, writeTensorFile } from '../../src/grad/io/tensor-file.js';
import type { FuzzTarget } from '../harness.js';
import { mutatedBytes, showBytes } from '../mutate.js';
import { freshDir } from '../seeds.js';

const EXTS = ['.pt', '.npy', '.safetensors'] as const;
type Ext = (typeof EXTS)[number];

/** Valid files of each format, written by our own writer (task-wise and layer-wise shapes). */
function seeds(ext: Ext): Uint8Array[] {
  const dir = freshDir();
  return [
    [Float32Array.from([0.3, 0.3]), [2]],
    [Float32Array.from({ length: 12 }, (_, i) => i / 12), [3, 4]],
  ].map(([data, shape], i) => {
    const p = join(dir, `w${i}${ext}`);
    writeTensorFile(p, data as Float32Array, shape as number[]);
    return new Uint8Array(readFileSync(p));
  });
}

export interface WeightsInput {
  ext: Ext;
  bytes: Uint8Array;
}

export const mergingWeightsTarget: FuzzTarget<WeightsInput> = {
  name: 'merging-weights',
  description: 'a merging-weights file (readTensorFile): .pt (torch.save zip + pickle, tensor data only), .npy, .safetensors',
  arbitrary: () => fc.oneof(...EXTS.map((ext) => mutatedBytes(seeds(ext)).map((bytes) => ({ ext, bytes })))),
  run({ ext, bytes }) {
    const path = join(freshDir(), `weights${ext}`);
    writeFileSync(path, bytes);
    readTensorFile(path, 'method.weights');
  },
  show: ({ ext, bytes }) => `${ext} ${showBytes(bytes)}`,
};
