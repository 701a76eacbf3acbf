/**
 * The task pool's image batches: rows [0, end) of a data set (or of a split's subset, read through to
 * the source rows), preprocessed into one reused float buffer. With a crop cache, each image's uint8
 * centre crop is kept by source row and later evaluations skip decoding and resizing; without one, an
 * image goes straight from the decoder into the batch buffer.
 */
import { UserError } from '../../errors.js';
import type { ImageBatch } from '../../data/image-batches.js';
import { SubsetDataset, type ImageRows } from '../../data/train-validation-split.js';
import type { DecodedImage } from '../../image/decode.js';
import { CLIPImageProcessor } from '../../models/clip/image-processor.js';
import { ImageClassificationDataset } from '../../data/image-classification.js';
import type { ImageCropCache } from './image-cache.js';
import { type PreprocessItem, type PreprocessThread } from './preprocess-thread.js';

export interface ImageCounts {
  /** Images decoded (and resized) from the data set's bytes. */
  decoded: number;
  /** Images taken from the in-memory crop cache. */
  fromMemory: number;
}

export interface BatchOptions {
  batchSize: number;
  end: number;
  /** The crop store and the key of this (data set, processor config); null: no caching. */
  cache: { store: ImageCropCache; key: string } | null;
  counts: ImageCounts;
}

/**
 * The batches with each next batch decoded and preprocessed on `thread` while the caller runs the
 * current one: two buffers take turns. Same batches, rows, labels and pixel values as imageBatches.
 * Needs a fixed output size (do_center_crop) and a data set that hands out its stored image bytes
 * (see canPipeline).
 */
export async function* pipelinedImageBatches(ds: ImageRows, processor: CLIPImageProcessor, opts: BatchOptions, thread: PreprocessThread): AsyncGenerator<ImageBatch> {
  const { batchSize, cache, counts } = opts;
  const end = Math.min(opts.end, ds.length);
  if (!(batchSize > 0)) throw new RangeError('imageBatches: batchSize must be positive');
  const subset = ds instanceof SubsetDataset ? ds : null;
  const source = (subset ? subset.dataset : ds) as ImageClassificationDataset;
  const { height, width } = processor.config.cropSize;
  const per = 3 * height * width;
  const rows = Math.max(1, Math.min(batchSize, end));
  const buffers = [new ArrayBuffer(per * rows * 4), new ArrayBuffer(per * rows * 4)];
  const labels = [new Int32Array(rows), new Int32Array(rows)];

  // Batch `b`'s stored bytes (or cached crops) and labels, read on this thread.
  const prepare = async (b: number, slot: number) => {
    const count = Math.min(batchSize, end - b);
    const items: PreprocessItem[] = [];
    const give: ArrayBuffer[] = [];
    const sourceRows: number[] = [];
    for (let k = 0; k < count; k++) {
      const row = subset ? subset.sourceRow(b + k) : b + k;
      const where = `${ds.name} row ${b + k}`;
      sourceRows.push(row);
      const kept = cache?.store.get(cache.key, row);
      if (kept !== undefined) {
        counts.fromMemory++;
        items.push({ crop: { data: sendable(kept.data), height: kept.height, width: kept.width }, where });
        labels[slot]![k] = kept.label;
        continue;
      }
      const ex = await source.get(row);
      counts.decoded++;
      // its own copy, handed over: posting a view would copy the whole row group's buffer it lies in
      const bytes = ex.image.slice();
      give.push(bytes.buffer);
      items.push({ bytes, where });
      labels[slot]![k] = ex.label;
    }
    return { b, count, slot, items, give, sourceRows };
  };
  // Hands a prepared batch to the thread; its buffer is lent there until the reply.
  const post = async (p: Awaited<ReturnType<typeof prepare>>) => {
    const buf = buffers[p.slot]!;
    buffers[p.slot] = new ArrayBuffer(0);
    const r = await thread.run(processor.config, p.items, per, buf, cache !== null, p.give);
    buffers[p.slot] = r.out;
    if (cache) {
      r.crops.forEach((c, k) => {
        if (c) cache.store.put(cache.key, p.sourceRows[k]!, { ...c, label: labels[p.slot]![k]! });
      });
    }
    return p;
  };

  const slotOf = (b: number) => (b / batchSize) % 2;
  const noop = () => undefined;
  let current: Promise<{ b: number; count: number; slot: number }> | null = end > 0 ? post(await prepare(0, 0)) : null;
  let following: typeof current = null;
  try {
    for (let b = 0; current !== null; b += batchSize) {
      // Marks a rejection as seen while the next batch is read; `await current` below still throws it.
      current.catch(noop);
      // The caller is done with the other slot: the next batch's bytes are read and handed over now, so
      // the thread goes on with it while the caller runs this one (blocking this thread in onnxruntime).
      const nextStart = b + batchSize;
      following = nextStart < end ? post(await prepare(nextStart, slotOf(nextStart))) : null;
      const done = await current;
      current = following;
      following = null;
      yield {
        start: done.b,
        count: done.count,
        pixelValues: new Float32Array(buffers[done.slot]!, 0, done.count * per),
        labels: labels[done.slot]!.subarray(0, done.count),
        dims: [done.count, 3, height, width],
      };
    }
  } finally {
    // An abandoned evaluation (an error downstream) leaves jobs out; their outcome is nobody's.
    current?.catch(noop);
    following?.catch(noop);
  }
}

/**
 * A cached crop as it can be posted: crops in shared memory (the thread's, the disk cache's) as they
 * are; others copied when they are a view of a larger buffer, which posting would copy whole.
 */
function sendable(data: Uint8Array): Uint8Array {
  if (data.buffer instanceof SharedArrayBuffer || data.byteLength === data.buffer.byteLength) return data;
  return data.slice();
}

/** Whether pipelinedImageBatches can serve this data set and processor. */
export function canPipeline(ds: ImageRows, processor: CLIPImageProcessor): boolean {
  const source = ds instanceof SubsetDataset ? ds.dataset : ds;
  return source instanceof ImageClassificationDataset && processor.config.doCenterCrop;
}

export async function* imageBatches(ds: ImageRows, processor: CLIPImageProcessor, opts: BatchOptions): AsyncGenerator<ImageBatch> {
  const { batchSize, cache, counts } = opts;
  const end = Math.min(opts.end, ds.length);
  if (!(batchSize > 0)) throw new RangeError('imageBatches: batchSize must be positive');
  const subset = ds instanceof SubsetDataset ? ds : null;
  const source: ImageRows = subset ? subset.dataset : ds;
  // Rescale and normalise only: what preprocessInto does after its resize and crop.
  const normalizer = cache ? new CLIPImageProcessor({ ...processor.config, doResize: false, doCenterCrop: false }) : null;
  let buf: Float32Array | null = null;
  let per = 0;
  let size: { height: number; width: number } | null = null;
  // never more rows than are read: a batch_size above the data set's size allocates only what is used
  const rows = Math.max(1, Math.min(batchSize, end));
  const labels = new Int32Array(rows);
  const fits = (h: number, w: number, where: string): void => {
    if (size === null) {
      size = { height: h, width: w };
      per = 3 * h * w;
      buf = new Float32Array(per * rows);
    } else if (h !== size.height || w !== size.width) {
      throw new UserError(`${where}: preprocesses to ${h}x${w}, earlier rows to ${size.height}x${size.width} (enable do_center_crop)`);
    }
  };
  for (let b = 0; b < end; b += batchSize) {
    const count = Math.min(batchSize, end - b);
    for (let k = 0; k < count; k++) {
      const row = subset ? subset.sourceRow(b + k) : b + k;
      const where = `${ds.name} row ${b + k}`;
      const kept = cache?.store.get(cache.key, row);
      if (kept !== undefined) {
        counts.fromMemory++;
        fits(kept.height, kept.width, where);
        normalizer!.preprocessInto(rgb(kept.data, kept.height, kept.width), buf!, k * per);
        labels[k] = kept.label;
        continue;
      }
      const { image, label } = await source.getRGB(row);
      counts.decoded++;
      const s = processor.outputSize(image.height, image.width);
      fits(s.height, s.width, where);
      if (cache) {
        const crop = processor.resizeCropU8(image);
        cache.store.put(cache.key, row, { data: crop.data, height: crop.height, width: crop.width, label });
        normalizer!.preprocessInto(rgb(crop.data, crop.height, crop.width), buf!, k * per);
      } else {
        processor.preprocessInto(image, buf!, k * per);
      }
      labels[k] = label;
    }
    const sz = size!;
    yield { start: b, count, pixelValues: buf!.subarray(0, count * per), labels: labels.subarray(0, count), dims: [count, 3, sz.height, sz.width] };
  }
}

function rgb(data: Uint8Array, height: number, width: number): DecodedImage {
  return { width, height, channels: 3, mode: 'RGB', data };
}
