/**
 * CLIP ViT-B/32 vision tower (hidden 768, 12 layers, 12 heads, MLP 3072, patch 32, 224 px) on
 * onnxruntime-node with seeded random weights: images/s per batch size, from a float32 pixel tensor
 * (`tensor_images_per_s`) and from decoded uint8 RGB images through CLIPImageProcessor with
 * openai/clip-vit-base-patch32's preprocessor config, then the tower, one after the other
 * (`end_to_end_images_per_s`; decoding PNG/JPEG is not included). Prints JSON.
 * Usage: node dist/bench/clip-vision.js [--batches 1,16,64,128] [--attention fused|plain] [--threads N] [--seconds S]
 *        [--spin 1|0] [--level all|extended|basic]
 */
import { availableParallelism } from 'node:os';
import { clipVisionConfigFrom } from '../src/models/clip/config.js';
import type { AttentionImpl } from '../src/models/clip/encoder-graph.js';
import { randomClipStateDict } from '../src/models/clip/random-weights.js';
import { ClipVisionSession } from '../src/models/clip/session.js';
import { CLIPImageProcessor } from '../src/models/clip/image-processor.js';
import type { DecodedImage } from '../src/image/decode.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/clip-vision.js [--batches 1,16,64,128] [--attention fused|plain] [--threads N] [--seconds S] [--spin 1|0] [--level all|extended|basic]';
const { values } = benchArgs(USAGE, {
  options: {
    batches: { type: 'string', default: '1,16,64,128' },
    attention: { type: 'string', default: 'fused' },
    threads: { type: 'string' },
    // Minimum timed seconds per batch size (at least one run is always timed).
    seconds: { type: 'string', default: '3' },
    // onnxruntime's intra-op thread spinning ('1', its default, or '0').
    spin: { type: 'string', default: '1' },
    level: { type: 'string', default: 'all' },
    // Size of the synthetic decoded images (HxW) fed through the image processor.
    image: { type: 'string', default: '256x320' },
  },
});
const batches = values.batches.split(',').map(Number);
const attention = values.attention as AttentionImpl;
const threads = values.threads ? Number(values.threads) : availableParallelism();
const minSeconds = Number(values.seconds);

// CLIPVisionConfig() defaults are ViT-B/32.
const config = clipVisionConfigFrom({ model_type: 'clip_vision_model' });
let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

let t = performance.now();
const sd = randomClipStateDict({ vision: config, projectionDim: 512 }, 1234);
const weightsMs = performance.now() - t;
sampleRss();
t = performance.now();
const session = await ClipVisionSession.create(config, sd, {
  projection: sd.loadF32('visual_projection.weight'),
  attention,
  threads,
  ortOptions: {
    graphOptimizationLevel: values.level as 'all' | 'extended' | 'basic' | 'disabled',
    extra: { session: { intra_op: { allow_spinning: values.spin } } },
  },
});
const createMs = performance.now() - t;
sampleRss();

// Pixel values in the range CLIP normalisation produces.
const maxBatch = Math.max(...batches);
const pixels = new Float32Array(maxBatch * session.imageValues);
let s = 1;
for (let i = 0; i < pixels.length; i++) {
  s = (s * 1103515245 + 12345) >>> 0;
  pixels[i] = (s / 2 ** 32) * 4 - 2;
}

// Synthetic decoded images (smooth gradients plus noise) and openai/clip-vit-base-patch32's preprocessing.
const [imgH, imgW] = values.image.split('x').map(Number) as [number, number];
const processor = CLIPImageProcessor.fromConfig({
  crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor',
  image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], resample: 3, size: 224,
});
const images: DecodedImage[] = Array.from({ length: maxBatch }, (_, k) => {
  const data = new Uint8Array(imgH * imgW * 3);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (((i / 3) % imgW) + k * 7 + (s >>> 28)) & 255;
  }
  return { width: imgW, height: imgH, channels: 3, mode: 'RGB', data };
});
const batchPixels = new Float32Array(maxBatch * session.imageValues);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = [];
for (const batch of batches) {
  const input = pixels.subarray(0, batch * session.imageValues);
  await session.run(input, batch); // warm-up: arena growth, kernel selection
  sampleRss();
  const tensorMs: number[] = [];
  const preMs: number[] = [];
  let cpuUs = 0;
  const start = performance.now();
  do {
    let t0 = performance.now();
    const c0 = process.cpuUsage();
    await session.run(input, batch);
    tensorMs.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
    t0 = performance.now();
    processor.preprocessBatch(images.slice(0, batch), batchPixels.subarray(0, batch * session.imageValues));
    preMs.push(performance.now() - t0);
    sampleRss();
  } while (performance.now() - start < minSeconds * 1000);
  const run = median(tensorMs);
  const pre = median(preMs);
  results.push({
    batch,
    runs: tensorMs.length,
    median_run_ms: +run.toFixed(1),
    median_preprocess_ms: +pre.toFixed(1),
    tensor_images_per_s: +((batch * 1000) / run).toFixed(2),
    // CPU time of the tower per image (all threads): on a shared machine, threads × 1000 / this is the
    // rate the cores would give if they were ours (spinning threads count as busy, so it errs low).
    cpu_ms_per_image: +(cpuUs / 1000 / (tensorMs.length * batch)).toFixed(1),
    end_to_end_images_per_s: +((batch * 1000) / (run + pre)).toFixed(2),
  });
}
await session.dispose();

console.log(
  JSON.stringify(
    {
      bench: 'clip-vision',
      model: 'ViT-B/32 (random weights), 224 px, with visual_projection',
      preprocessing: `CLIPImageProcessor (openai224) on ${imgH}x${imgW} RGB uint8 images`,
      attention,
      threads,
      graph_optimization_level: values.level,
      allow_spinning: values.spin,
      weights_ms: +weightsMs.toFixed(0),
      session_create_ms: +createMs.toFixed(0),
      results,
      peak_rss_mb: +(peakRss / 2 ** 20).toFixed(0),
    },
    null,
    2,
  ),
);
