/**
 * Forward + backward of the CLIP ViT-B/32 vision tower (seeded random weights) under the zero-shot head
 * with cross-entropy, on onnxruntime-node: gradients of all 87.5M tower parameters per step, fed as
 * graph inputs (ClipVisionGradSession). Reports images/s of the gradient step, of the inference forward
 * pass for comparison, the time to build the session, and peak RSS. Prints JSON.
 * Usage: node dist/bench/clip-vision-train.js [--batch 16] [--steps 3] [--threads N] [--loss cross_entropy|entropy]
 */
import { availableParallelism } from 'node:os';
import { ClipVisionGradSession, type VisionLoss } from '../src/grad/clip-vision-grad.js';
import { clipVisionConfigFrom } from '../src/models/clip/config.js';
import { l2NormalizeRows } from '../src/models/clip/head.js';
import { randomClipStateDict } from '../src/models/clip/random-weights.js';
import { ClipVisionSession } from '../src/models/clip/session.js';
import { mulberry32 } from '../src/util/prng.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/clip-vision-train.js [--batch 16] [--steps 3] [--threads N] [--loss cross_entropy|entropy]';
const { values } = benchArgs(USAGE, {
  options: {
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '3' },
    threads: { type: 'string' },
    loss: { type: 'string', default: 'cross_entropy' },
    classes: { type: 'string', default: '10' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const threads = values.threads ? Number(values.threads) : availableParallelism();
const classes = Number(values.classes);

const config = clipVisionConfigFrom({ model_type: 'clip_vision_model' });
const sd = randomClipStateDict({ vision: config, projectionDim: 512 }, 1234);
const projection = sd.loadF32('visual_projection.weight');
const next = mulberry32(5);
const textEmbeds = l2NormalizeRows(Float32Array.from({ length: classes * 512 }, () => next() * 2 - 1), 512);
const pixels = Float32Array.from({ length: batch * 3 * 224 * 224 }, () => next() * 4 - 2);
const labels = Array.from({ length: batch }, (_, i) => i % classes);

let t = performance.now();
const session = await ClipVisionGradSession.create(config, sd, {
  loss: values.loss as VisionLoss, batch, projection, classes, logitScale: Math.log(100), threads,
});
const createMs = performance.now() - t;
const weights = new Map([...session.keys.keys()].map((k) => [k, sd.loadF32(k)]));
const params = [...weights.values()].reduce((n, w) => n + w.length, 0);

// One warm-up step (onnxruntime allocates its arenas on the first run), then the timed ones.
await session.run((k) => weights.get(k)!, pixels, textEmbeds, labels);
const stepMs: number[] = [];
let loss = NaN;
for (let i = 0; i < steps; i++) {
  t = performance.now();
  loss = (await session.run((k) => weights.get(k)!, pixels, textEmbeds, labels)).loss;
  stepMs.push(performance.now() - t);
}
await session.dispose();
const trainPeakRssMb = process.resourceUsage().maxRSS / 1024;

const fwd = await ClipVisionSession.create(config, sd, { projection, threads });
await fwd.run(pixels, batch);
t = performance.now();
for (let i = 0; i < steps; i++) await fwd.run(pixels, batch);
const forwardMs = (performance.now() - t) / steps;
await fwd.dispose();

const mean = stepMs.reduce((a, b) => a + b, 0) / stepMs.length;
console.log(JSON.stringify({
  bench: 'clip-vision-train',
  model: 'ViT-B/32 vision tower (random weights), zero-shot head, ' + values.loss,
  batch, threads, steps, parameters: params,
  session_create_ms: Math.round(createMs),
  step_ms: stepMs.map((x) => Math.round(x)),
  forward_backward_images_per_s: +(batch / (mean / 1000)).toFixed(2),
  forward_only_images_per_s: +(batch / (forwardMs / 1000)).toFixed(2),
  loss,
  peak_rss_mb_after_training: Math.round(trainPeakRssMb),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}, null, 2));
