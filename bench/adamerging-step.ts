/**
 * One AdaMerging step (layer-wise by default) on a TA8-like pool: a ViT-B/32 vision tower with seeded
 * random weights and `--models` task vectors (random, 1% of each tensor's RMS) held in memory as the
 * method holds them; per task one batch of `--batch` random images through forward + backward under a
 * 10-class head, coefficient gradients summed, one Adam step, the merge. Reports seconds per step and
 * peak RSS next to the size of the task vectors. Prints JSON.
 * Usage: node dist/bench/adamerging-step.js [--models 8] [--batch 16] [--steps 1] [--mode layer_wise|task_wise] [--threads N]
 */
import { availableParallelism } from 'node:os';
import { adaMerging } from '../src/grad/adamerging.js';
import { ClipVisionGradSession } from '../src/grad/clip-vision-grad.js';
import { type CoefficientMode, MergeCoefficients } from '../src/grad/merge-coefficients.js';
import { clipVisionConfigFrom } from '../src/models/clip/config.js';
import { l2NormalizeRows } from '../src/models/clip/head.js';
import { clipVisionParameterNames } from '../src/models/clip/parameters.js';
import { randomClipStateDict } from '../src/models/clip/random-weights.js';
import { mulberry32 } from '../src/util/prng.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/adamerging-step.js [--models 8] [--batch 16] [--steps 1] [--mode layer_wise|task_wise] [--threads N]';
const { values } = benchArgs(USAGE, {
  options: {
    models: { type: 'string', default: '8' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'layer_wise' },
    threads: { type: 'string' },
  },
});
const models = Number(values.models);
const batch = Number(values.batch);
const steps = Number(values.steps);
const threads = values.threads ? Number(values.threads) : availableParallelism();

const rss = () => process.memoryUsage().rss;
const cfg = clipVisionConfigFrom({ model_type: 'clip_vision_model' });
const sd = randomClipStateDict({ vision: cfg, projectionDim: 512 }, 1234);
const keys = clipVisionParameterNames(cfg);
const base = new Map(keys.map((k) => [k, sd.loadF32(k)]));
const next = mulberry32(3);
let tvBytes = 0;
const tvs = Array.from({ length: models }, () => new Map(keys.map((k) => {
  const b = base.get(k)!;
  let s = 0;
  for (const x of b) s += x * x;
  const a = 0.01 * Math.sqrt(s / b.length) * Math.sqrt(3);
  tvBytes += b.length * 4;
  return [k, Float32Array.from(b, () => (next() * 2 - 1) * a)];
})));
const rssAfterTaskVectors = rss();
const coeffs = new MergeCoefficients(values.mode as CoefficientMode, keys, base, tvs, false);
const session = await ClipVisionGradSession.create(cfg, sd, { loss: 'entropy', batch, projection: sd.loadF32('visual_projection.weight'), classes: 10, logitScale: Math.log(100), threads });
const pixels = Float32Array.from({ length: batch * 3 * 224 * 224 }, () => next() * 4 - 2);
const head = l2NormalizeRows(Float32Array.from({ length: 10 * 512 }, () => next() * 2 - 1), 512);
const tasks = Array.from({ length: models }, (_, i) => ({ name: `task${i}`, head, nextBatch: async () => pixels }));
const started = performance.now();
const result = await adaMerging(session, coeffs, tasks, { lr: 1e-3, maxSteps: steps, init: coeffs.initial(0.3) });
const seconds = (performance.now() - started) / 1000;
await session.dispose();
console.log(JSON.stringify({
  bench: 'adamerging-step',
  model: 'ViT-B/32 vision tower (random weights), entropy under a 10-class head',
  mode: values.mode, models, batch, steps, threads,
  seconds_per_step: +(seconds / steps).toFixed(2),
  images_per_s: +((models * batch * steps) / seconds).toFixed(2),
  task_vectors_mb: Math.round(tvBytes / 1e6),
  rss_mb_after_task_vectors: Math.round(rssAfterTaskVectors / 1e6),
  peak_rss_mb: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6),
  final_entropy: result.losses[result.losses.length - 1],
}, null, 2));
