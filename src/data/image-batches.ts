/**
 * Batches of preprocessed images from an image-classification split: decode → RGB → CLIP preprocessing
 * straight into one reused Float32Array, with the labels alongside.
 */
import { UserError } from '../errors.js';
import type { CLIPImageProcessor } from '../models/clip/image-processor.js';
import type { ImageClassificationDataset } from './image-classification.js';

export interface ImageBatch {
  /** First row of the batch in the split. */
  start: number;
  /** Rows in this batch (the last batch may be short). */
  count: number;
  /** (count, 3, H, W) float32 values at the front of a buffer shared by every batch: use before asking for the next. */
  pixelValues: Float32Array;
  labels: Int32Array;
  dims: [number, number, number, number];
}

export interface ImageBatchOptions {
  batchSize: number;
  start?: number;
  end?: number;
}

/** Iterates rows [start, end) in order; every image must preprocess to the same size (a centre crop ensures it). */
export async function* preprocessedBatches(ds: ImageClassificationDataset, processor: CLIPImageProcessor, opts: ImageBatchOptions): AsyncGenerator<ImageBatch> {
  const start = opts.start ?? 0;
  const end = Math.min(opts.end ?? ds.length, ds.length);
  if (!(opts.batchSize > 0)) throw new RangeError('preprocessedBatches: batchSize must be positive');
  let buf: Float32Array | null = null;
  let per = 0;
  let size: { height: number; width: number } | null = null;
  const labels = new Int32Array(opts.batchSize);
  for (let b = start; b < end; b += opts.batchSize) {
    const count = Math.min(opts.batchSize, end - b);
    for (let k = 0; k < count; k++) {
      const { image, label } = await ds.getRGB(b + k);
      const s = processor.outputSize(image.height, image.width);
      if (size === null) {
        size = s;
        per = 3 * s.height * s.width;
        buf = new Float32Array(per * opts.batchSize);
      } else if (s.height !== size.height || s.width !== size.width) {
        throw new UserError(`${ds.name} row ${b + k}: preprocesses to ${s.height}x${s.width}, earlier rows to ${size.height}x${size.width} (enable do_center_crop)`);
      }
      processor.preprocessInto(image, buf!, k * per);
      labels[k] = label;
    }
    yield { start: b, count, pixelValues: buf!.subarray(0, count * per), labels: labels.subarray(0, count), dims: [count, 3, size!.height, size!.width] };
  }
}
