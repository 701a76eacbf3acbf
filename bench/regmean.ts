/**
 * RegMean's two costs on a ViT-B/32-shaped vision tower (seeded random weights): the Gram matrices of
 * every linear input from the tower's ONNX graph (images/s, against the same tower's plain forward), and
 * the merge — per model the float64 products R(Gᵢ)·Wᵢᵀ, then the 48 Cholesky solves (36 of 768², 12 of
 * 3072²) — with peak RSS. Prints JSON.
 * Usage: node dist/bench/regmean.js [--batch 32] [--batches 2] [--models 2] [--layers 12] [--threads N]
 */
import { availableParallelism } from 'node:os';
import { clipVisionConfigFrom } from '../src/models/clip/config.js';
import { randomClipStateDict } from '../src/models/clip/random-weights.js';
import { ClipVisionSession } from '../src/models/clip/session.js';
import { ClipGramSession } from '../src/method/regmean/gram-session.js';
import { OrtGemm } from '../src/method/regmean/ort-gemm.js';
import { RegMeanSums, type RegMeanModule } from '../src/method/regmean/regmean-merge.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/regmean.js [--batch 32] [--batches 2] [--models 2] [--layers 12] [--threads N]';
const { values } = benchArgs(USAGE, {
  options: {
    batch: { type: 'string', default: '32' },
    batches: { type: 'string', default: '2' },
    models: { type: 'string', default: '2' },
    layers: { type: 'string', default: '12' },
    threads: { type: 'string' },
  },
});
const batch = Number(values.batch);
const nBatches = Number(values.batches);
const nModels = Number(values.models);
const threads = values.threads ? Number(values.threads) : availableParallelism();
const config = clipVisionConfigFrom({ model_type: 'clip_vision_model', num_hidden_layers: Number(values.layers) });
let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

const per = 3 * config.imageSize ** 2;
function pixels(seed: number): Float32Array {
  const p = new Float32Array(batch * per);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < p.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    p[i] = (s / 2 ** 32) * 4 - 2;
  }
  return p;
}

const sds = Array.from({ length: nModels }, (_, i) => randomClipStateDict({ vision: config, projectionDim: 512 }, 100 + i));
const plain = await ClipVisionSession.create(config, sds[0]!, { threads });
await plain.run(pixels(1), batch);
let t = performance.now();
for (let b = 0; b < nBatches; b++) await plain.run(pixels(b + 2), batch);
const forwardPerS = (nBatches * batch) / ((performance.now() - t) / 1000);
await plain.dispose();

const gemm = await OrtGemm.create();
let sums: RegMeanSums | null = null;
let gramS = 0;
let addS = 0;
for (const [i, sd] of sds.entries()) {
  const session = await ClipGramSession.create(config, sd, { threads });
  if (!sums) {
    const modules: RegMeanModule[] = session.grams.flatMap((g, u) => g.modules.map((m) => {
      const s = sd.info(`${m}.weight`).shape;
      return { module: m, key: `${m}.weight`, shape: [s[0]!, s[1]!] as [number, number], gram: u };
    }));
    sums = new RegMeanSums('bench', session.grams.map((g) => g.dim), modules, 0.95, true);
  }
  const acc = session.grams.map((g) => new Float32Array(g.dim * g.dim));
  const out = session.grams.map((g) => new Float32Array(g.dim * g.dim));
  t = performance.now();
  for (let b = 0; b < nBatches; b++) {
    const grams = await session.run(pixels(1000 * i + b), batch, out);
    for (const [u, g] of grams.entries()) for (let k = 0; k < g.length; k++) acc[u]![k] = acc[u]![k]! + g[k]!;
    sampleRss();
  }
  gramS += (performance.now() - t) / 1000;
  await session.dispose();
  t = performance.now();
  await sums.add(acc, nBatches * batch * session.tokens, (k) => sd.loadF32(k), gemm.rowGemm);
  addS += (performance.now() - t) / 1000;
  sampleRss();
}
t = performance.now();
const solved = await sums!.solve({ gemm: gemm.rowGemm });
const solveS = (performance.now() - t) / 1000;
sampleRss();
await gemm.dispose();

console.log(JSON.stringify({
  bench: 'regmean',
  model: `ViT-B/32 shape, ${config.numHiddenLayers} layers, random weights`,
  threads,
  batch,
  batches_per_model: nBatches,
  models: nModels,
  forward_images_per_s: +forwardPerS.toFixed(2),
  gram_images_per_s: +((nModels * nBatches * batch) / gramS).toFixed(2),
  products_s_per_model: +(addS / nModels).toFixed(2),
  solve_s: +solveS.toFixed(2),
  merged_weights: solved.size,
  peak_rss_mb: Math.round(peakRss / 2 ** 20),
}));
