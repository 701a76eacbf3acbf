/**
 * Builds demo/: a tiny seeded CLIP model, two vision towers fine-tuned from it (MNIST, Fashion-MNIST) and
 * 500-image slices of the real MNIST / Fashion-MNIST test sets, so that `fusion-bench --config-name demo`
 * runs a real merge-and-evaluate job offline.
 *
 *   npx tsx scripts/build-demo.ts            (reads ../shared/data, or $FUSION_BENCH_SHARED_DIR/data)
 *
 * Deterministic: the same inputs give byte-identical files. Only this script reads ../shared; the demo
 * itself uses the committed files under demo/.
 *
 * "Fine-tuning" without autograd: everything of the pretrained vision tower is frozen except the last
 * encoder layer's `mlp.fc2` (weight, bias) and `post_layernorm` (weight, bias). Given the frozen part's
 * per-image features (the CLS residual h after the last attention and the fc1 activations a), the logits
 * are exp(s) · normalize(P · LN_post(h + W2 a + b2)) · Wᵀ with P the pretrained visual projection and W the
 * zero-shot head built from the pretrained text tower — exactly what the task pool computes. The script
 * minimises the softmax cross-entropy over training images by Adam with hand-written gradients.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToUnicode } from '../src/models/clip/bpe.js';
import { clipTextConfigFrom, clipVisionConfigFrom, type ClipVisionConfig } from '../src/models/clip/config.js';
import { CLIPImageProcessor } from '../src/models/clip/image-processor.js';
import { randomClipStateDict } from '../src/models/clip/random-weights.js';
import { ClipTextSession, ClipVisionSession } from '../src/models/clip/session.js';
import { CLIPTokenizer } from '../src/models/clip/tokenizer.js';
import { computeZeroShotHead, type ZeroShotHead } from '../src/taskpool/clip-vision/zero-shot-head.js';
import { getClassnamesAndTemplates } from '../src/tasks/clip-classification/index.js';
import { f16ToF32, f32ToF16 } from '../src/tensor/dtype.js';
import { MemoryStateDict, makeTensor } from '../src/tensor/memory-state-dict.js';
import { writeSafetensorsSync } from '../src/tensor/safetensors-write.js';
import type { StateDict } from '../src/tensor/types.js';
import { idxSliceAsPngs, readIdxImages, readIdxLabels, writeHfParquetDataset } from '../test/helpers/datasets.js';
import { mulberry32 } from '../src/util/prng.js';

// ---------------------------------------------------------------------------------------------- settings

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'demo');
const SHARED = process.env.FUSION_BENCH_SHARED_DIR ?? resolve(ROOT, '..', 'shared');

export const SETTINGS = {
  seed: 20240601,
  image: 28,
  vision: { hidden_size: 96, intermediate_size: 384, num_hidden_layers: 3, num_attention_heads: 4, patch_size: 7 },
  text: { hidden_size: 64, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4 },
  projectionDim: 64,
  /** ln 100: trained CLIP models sit at this cap; the random init value (ln 1/0.07) would make logits too flat. */
  logitScale: Math.log(100),
  /**
   * The vision position embeddings are drawn 10× wider than CLIP's initialiser (std 0.2 instead of 0.02):
   * with the narrow init the frozen random tower sees a bag of patches and forgets where the strokes are.
   */
  positionEmbeddingGain: 10,
  /** The CLS embedding 5× narrower than CLIP's initialiser: a large constant CLS offset drowns the image-dependent part of the pooled feature. */
  classEmbeddingGain: 0.2,
  /** Training slices (images [start, start + n)). MNIST has only its test set offline: fit on test[0, 8000). */
  train: { mnist: { split: 'test', start: 0, n: 8000 }, fashion_mnist: { split: 'train', start: 0, n: 8000 } },
  /** Held-out measurement slice (test split) and the demo's evaluation slice (test split), disjoint from training. */
  validation: { start: 8000, n: 1500 },
  demo: { start: 9500, n: 500 },
  optimizer: { epochs: 20, batch: 64, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecayToPretrained: 1e-4 },
  scalingFactors: [0.3, 0.5, 0.6, 0.7, 0.8, 1.0],
  demoScalingFactor: 0.7,
} as const;

const TASKS = ['mnist', 'fashion_mnist'] as const;
type Task = (typeof TASKS)[number];

const LABEL_NAMES: Record<Task, string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  fashion_mnist: ['T - shirt / top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

// ------------------------------------------------------------------------------------------------ files

function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function writeJson(path: string, value: unknown): void {
  writeAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Rounds every value to float16 (what the committed files hold), so training sees the stored weights. */
function roundF16(a: Float32Array): Float32Array {
  return f16ToF32(f32ToF16(a));
}

function writeF16Checkpoint(dir: string, tensors: Map<string, { shape: readonly number[]; data: Float32Array }>): void {
  const sd = new MemoryStateDict([...tensors].map(([n, t]) => [n, makeTensor('F16', t.shape, roundF16(t.data))] as const));
  mkdirSync(dir, { recursive: true });
  writeSafetensorsSync(join(dir, 'model.safetensors'), sd, { fsync: false });
}

// ------------------------------------------------------------------------------- tokenizer and configs

/**
 * A character-level CLIP BPE vocabulary: the 256 byte symbols, the same with `</w>`, then the two special
 * tokens, and no merges (ids as openai/CLIP orders them, minus the merged symbols). 514 tokens.
 */
function writeTokenizer(dir: string): void {
  const bytes = bytesToUnicode();
  // openai/CLIP lists the printable bytes first (in byte order), then the remapped ones: the values of
  // bytes_to_unicode() in its insertion order.
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const order = [...Array(256).keys()].filter(printable).concat([...Array(256).keys()].filter((b) => !printable(b)));
  const symbols = order.map((b) => bytes[b]!);
  const vocab: Record<string, number> = {};
  symbols.forEach((s, i) => (vocab[s] = i));
  symbols.forEach((s, i) => (vocab[`${s}</w>`] = 256 + i));
  vocab['<|startoftext|>'] = 512;
  vocab['<|endoftext|>'] = 513;
  writeJson(join(dir, 'vocab.json'), vocab);
  writeAtomic(join(dir, 'merges.txt'), '#version: 0.2\n');
  const specials = { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', pad_token: '<|endoftext|>' };
  writeJson(join(dir, 'special_tokens_map.json'), specials);
  writeJson(join(dir, 'tokenizer_config.json'), {
    ...specials,
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: 77,
    errors: 'replace',
    do_lower_case: true,
    add_prefix_space: false,
    clean_up_tokenization_spaces: true,
  });
}

function preprocessorConfig(): Record<string, unknown> {
  const s = SETTINGS.image;
  return {
    crop_size: { height: s, width: s },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_processor_type: 'CLIPImageProcessor',
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { shortest_edge: s },
  };
}

function visionConfigJson(): Record<string, unknown> {
  return { ...SETTINGS.vision, image_size: SETTINGS.image, model_type: 'clip_vision_model', projection_dim: SETTINGS.projectionDim };
}

function clipConfigJson(): Record<string, unknown> {
  return {
    architectures: ['CLIPModel'],
    initializer_factor: 1.0,
    logit_scale_init_value: SETTINGS.logitScale,
    model_type: 'clip',
    projection_dim: SETTINGS.projectionDim,
    text_config: {
      ...SETTINGS.text,
      vocab_size: 514,
      max_position_embeddings: 77,
      bos_token_id: 512,
      eos_token_id: 513,
      pad_token_id: 513,
      model_type: 'clip_text_model',
      projection_dim: SETTINGS.projectionDim,
    },
    torch_dtype: 'float16',
    transformers_version: '4.45.0',
    vision_config: visionConfigJson(),
  };
}

function visionModelConfigJson(task: Task): Record<string, unknown> {
  return {
    _name_or_path: `demo/models/tiny-clip-${task}`,
    architectures: ['CLIPVisionModel'],
    ...visionConfigJson(),
    torch_dtype: 'float16',
    transformers_version: '4.45.0',
  };
}

// ------------------------------------------------------------------------------------------------- data

interface Slice {
  pixels: Uint8Array[];
  labels: Uint8Array;
}

function idxPaths(task: Task, split: string): { images: string; labels: string } {
  const dir = join(SHARED, 'data', task);
  const stem = split === 'test' ? 't10k' : 'train';
  return { images: join(dir, `${stem}-images-idx3-ubyte.gz`), labels: join(dir, `${stem}-labels-idx1-ubyte.gz`) };
}

function readSlice(task: Task, split: string, start: number, n: number): Slice {
  const p = idxPaths(task, split);
  const idx = readIdxImages(p.images);
  const labels = readIdxLabels(p.labels);
  const size = idx.rows * idx.cols;
  const pixels: Uint8Array[] = [];
  for (let i = start; i < start + n; i++) pixels.push(idx.pixels.slice(i * size, (i + 1) * size));
  return { pixels, labels: labels.slice(start, start + n) };
}

function writeDemoDataset(task: Task): string {
  const p = idxPaths(task, 'test');
  const s = idxSliceAsPngs(p.images, p.labels, SETTINGS.demo.start, SETTINGS.demo.n);
  const dir = join(OUT, 'data', task);
  return writeHfParquetDataset(dir, { split: 'test', images: s.images, labels: s.labels, labelNames: LABEL_NAMES[task], rowGroupSize: 500 });
}

// ------------------------------------------------------------------------------------- frozen features

/** What the frozen part of the tower gives per image: h (CLS after the last attention) and a (fc1 activations). */
interface Features {
  n: number;
  h: Float32Array; // [n, d]
  a: Float32Array; // [n, m]
}

function layerNormRow(x: Float32Array, xo: number, d: number, g: Float32Array, b: Float32Array, eps: number, out: Float32Array, oo: number): void {
  let mu = 0;
  for (let i = 0; i < d; i++) mu += x[xo + i]!;
  mu /= d;
  let v = 0;
  for (let i = 0; i < d; i++) v += (x[xo + i]! - mu) ** 2;
  const inv = 1 / Math.sqrt(v / d + eps);
  for (let i = 0; i < d; i++) out[oo + i] = (x[xo + i]! - mu) * inv * g[i]! + b[i]!;
}

/** y = W x + b for W [rows, cols] row-major. */
function affine(W: Float32Array, b: Float32Array | null, x: Float32Array, xo: number, rows: number, cols: number, out: Float32Array, oo: number): void {
  for (let r = 0; r < rows; r++) {
    let s = b ? b[r]! : 0;
    const wo = r * cols;
    for (let c = 0; c < cols; c++) s += W[wo + c]! * x[xo + c]!;
    out[oo + r] = s;
  }
}

/**
 * Runs the first L-1 encoder layers on onnxruntime (the same graph the task pool uses), then the last
 * layer's attention and fc1 for the CLS token in float64-accumulating JS.
 */
async function frozenFeatures(cfg: ClipVisionConfig, sd: StateDict, processor: CLIPImageProcessor, slice: Slice): Promise<Features> {
  const L = cfg.numHiddenLayers;
  const d = cfg.hiddenSize;
  const m = cfg.intermediateSize;
  const heads = cfg.numAttentionHeads;
  const hd = d / heads;
  const T = (cfg.imageSize / cfg.patchSize) ** 2 + 1;
  const trunk = await ClipVisionSession.create({ ...cfg, numHiddenLayers: L - 1 }, sd, { lastHiddenState: true, threads: 2 });
  const p = `vision_model.encoder.layers.${L - 1}`;
  const w = (n: string) => sd.loadF32(`${p}.${n}`);
  const [g1, b1, Wq, bq, Wk, bk, Wv, bv, Wo, bo, g2, b2, W1, c1] = [
    'layer_norm1.weight', 'layer_norm1.bias', 'self_attn.q_proj.weight', 'self_attn.q_proj.bias', 'self_attn.k_proj.weight', 'self_attn.k_proj.bias',
    'self_attn.v_proj.weight', 'self_attn.v_proj.bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias', 'layer_norm2.weight', 'layer_norm2.bias',
    'mlp.fc1.weight', 'mlp.fc1.bias',
  ].map(w) as Float32Array[];
  const n = slice.pixels.length;
  const feats: Features = { n, h: new Float32Array(n * d), a: new Float32Array(n * m) };
  const batch = 256;
  const per = 3 * cfg.imageSize * cfg.imageSize;
  const y = new Float32Array(T * d);
  const q = new Float32Array(d);
  const k = new Float32Array(T * d);
  const v = new Float32Array(T * d);
  const o = new Float32Array(d);
  const att = new Float32Array(d);
  const z = new Float32Array(d);
  const u = new Float32Array(m);
  const score = new Float64Array(T);
  for (let s = 0; s < n; s += batch) {
    const bsz = Math.min(batch, n - s);
    const px = new Float32Array(bsz * per);
    for (let i = 0; i < bsz; i++) {
      processor.preprocessInto({ width: cfg.imageSize, height: cfg.imageSize, channels: 1, mode: 'L', data: slice.pixels[s + i]! }, px, i * per);
    }
    const hidden = (await trunk.run(px, bsz)).lastHiddenState!;
    for (let i = 0; i < bsz; i++) {
      const xo = i * T * d;
      for (let t = 0; t < T; t++) layerNormRow(hidden, xo + t * d, d, g1, b1, cfg.layerNormEps, y, t * d);
      affine(Wq, bq, y, 0, d, d, q, 0);
      for (let t = 0; t < T; t++) {
        affine(Wk, bk, y, t * d, d, d, k, t * d);
        affine(Wv, bv, y, t * d, d, d, v, t * d);
      }
      const scale = hd ** -0.5;
      for (let hh = 0; hh < heads; hh++) {
        let max = -Infinity;
        for (let t = 0; t < T; t++) {
          let sc = 0;
          for (let j = 0; j < hd; j++) sc += q[hh * hd + j]! * scale * k[t * d + hh * hd + j]!;
          score[t] = sc;
          if (sc > max) max = sc;
        }
        let sum = 0;
        for (let t = 0; t < T; t++) sum += score[t] = Math.exp(score[t]! - max);
        for (let j = 0; j < hd; j++) {
          let acc = 0;
          for (let t = 0; t < T; t++) acc += score[t]! * v[t * d + hh * hd + j]!;
          o[hh * hd + j] = acc / sum;
        }
      }
      affine(Wo, bo, o, 0, d, d, att, 0);
      const ho = (s + i) * d;
      for (let j = 0; j < d; j++) feats.h[ho + j] = hidden[xo + j]! + att[j]!;
      layerNormRow(feats.h, ho, d, g2, b2, cfg.layerNormEps, z, 0);
      affine(W1, c1, z, 0, m, d, u, 0);
      const ao = (s + i) * m;
      for (let j = 0; j < m; j++) feats.a[ao + j] = u[j]! / (1 + Math.exp(-1.702 * u[j]!)); // quick_gelu
    }
  }
  await trunk.dispose();
  return feats;
}

// ---------------------------------------------------------------------------- the trainable head part

/** The tensors fine-tuning changes, as float32 copies. */
interface Tuned {
  W2: Float32Array; // [d, m]
  b2: Float32Array; // [d]
  g: Float32Array; // [d]  post_layernorm.weight
  b: Float32Array; // [d]  post_layernorm.bias
}

const TUNED_NAMES = (L: number) => ({
  W2: `vision_model.encoder.layers.${L - 1}.mlp.fc2.weight`,
  b2: `vision_model.encoder.layers.${L - 1}.mlp.fc2.bias`,
  g: 'vision_model.post_layernorm.weight',
  b: 'vision_model.post_layernorm.bias',
});

interface Fixed {
  d: number;
  m: number;
  e: number;
  P: Float32Array; // [e, d] visual projection
  scale: number; // exp(logit_scale)
  eps: number;
}

/** Forward for one image; fills the scratch buffers and returns logits over the head's classes. */
class HeadModel {
  readonly r: Float32Array;
  readonly xhat: Float32Array;
  readonly nrm: Float32Array;
  readonly emb: Float32Array;
  readonly logits: Float32Array;
  sigma = 1;
  embNorm = 1;

  constructor(readonly f: Fixed, readonly head: ZeroShotHead) {
    this.r = new Float32Array(f.d);
    this.xhat = new Float32Array(f.d);
    this.nrm = new Float32Array(f.d);
    this.emb = new Float32Array(f.e);
    this.logits = new Float32Array(head.numClasses);
  }

  forward(t: Tuned, feats: Features, i: number): Float32Array {
    const { d, m, e, P } = this.f;
    const ho = i * d;
    const ao = i * m;
    let mu = 0;
    for (let j = 0; j < d; j++) {
      let s = feats.h[ho + j]! + t.b2[j]!;
      const wo = j * m;
      for (let c = 0; c < m; c++) s += t.W2[wo + c]! * feats.a[ao + c]!;
      this.r[j] = s;
      mu += s;
    }
    mu /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (this.r[j]! - mu) ** 2;
    this.sigma = Math.sqrt(v / d + this.f.eps);
    for (let j = 0; j < d; j++) {
      this.xhat[j] = (this.r[j]! - mu) / this.sigma;
      this.nrm[j] = this.xhat[j]! * t.g[j]! + t.b[j]!;
    }
    let nn = 0;
    for (let k = 0; k < e; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += P[k * d + j]! * this.nrm[j]!;
      this.emb[k] = s;
      nn += s * s;
    }
    this.embNorm = Math.sqrt(nn);
    for (let k = 0; k < e; k++) this.emb[k] = this.emb[k]! / this.embNorm;
    const W = this.head.weights;
    for (let c = 0; c < this.head.numClasses; c++) {
      let s = 0;
      for (let k = 0; k < e; k++) s += this.emb[k]! * W[c * e + k]!;
      this.logits[c] = this.f.scale * s;
    }
    return this.logits;
  }
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

function accuracy(model: HeadModel, t: Tuned, feats: Features, labels: Uint8Array): number {
  let ok = 0;
  for (let i = 0; i < feats.n; i++) if (argmax(model.forward(t, feats, i)) === labels[i]) ok++;
  return ok / feats.n;
}


/** Minibatch Adam on the mean cross-entropy (+ an L2 pull towards the pretrained values); returns the tuned copy. */
function fineTune(model: HeadModel, init: Tuned, feats: Features, labels: Uint8Array, seed: number, log: (s: string) => void): Tuned {
  const o = SETTINGS.optimizer;
  const { d, m, e, P } = model.f;
  const keys = ['W2', 'b2', 'g', 'b'] as const;
  const t: Tuned = { W2: init.W2.slice(), b2: init.b2.slice(), g: init.g.slice(), b: init.b.slice() };
  const grad: Tuned = { W2: new Float32Array(d * m), b2: new Float32Array(d), g: new Float32Array(d), b: new Float32Array(d) };
  const m1 = keys.map((k) => new Float64Array(t[k].length));
  const m2 = keys.map((k) => new Float64Array(t[k].length));
  const dEmb = new Float64Array(e);
  const dn = new Float64Array(d);
  const dr = new Float64Array(d);
  const order = [...Array(feats.n).keys()];
  const next = mulberry32(seed);
  let step = 0;
  const totalSteps = o.epochs * Math.ceil(feats.n / o.batch);
  const W = model.head.weights;
  const C = model.head.numClasses;
  const probs = new Float64Array(C);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0;
    for (let s = 0; s < order.length; s += o.batch) {
      const idx = order.slice(s, s + o.batch);
      for (const k of keys) grad[k].fill(0);
      for (const i of idx) {
        const logits = model.forward(t, feats, i);
        let max = -Infinity;
        for (let c = 0; c < C; c++) max = Math.max(max, logits[c]!);
        let z = 0;
        for (let c = 0; c < C; c++) z += probs[c] = Math.exp(logits[c]! - max);
        for (let c = 0; c < C; c++) probs[c] = probs[c]! / z;
        const y = labels[i]!;
        lossSum += -Math.log(Math.max(probs[y]!, 1e-30));
        probs[y] = probs[y]! - 1;
        // d logits → d unit embedding → d embedding (through x / ||x||) → d LN output
        let dot = 0;
        for (let k = 0; k < e; k++) {
          let sum = 0;
          for (let c = 0; c < C; c++) sum += probs[c]! * W[c * e + k]!;
          dEmb[k] = model.f.scale * sum;
          dot += dEmb[k]! * model.emb[k]!;
        }
        for (let k = 0; k < e; k++) dEmb[k] = (dEmb[k]! - model.emb[k]! * dot) / model.embNorm;
        for (let j = 0; j < d; j++) {
          let sum = 0;
          for (let k = 0; k < e; k++) sum += P[k * d + j]! * dEmb[k]!;
          dn[j] = sum;
        }
        // through the post LayerNorm: dγ, dβ, then d r = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ ⊙ x̂)) / σ
        let mean1 = 0;
        let mean2 = 0;
        for (let j = 0; j < d; j++) {
          grad.g[j] = grad.g[j]! + dn[j]! * model.xhat[j]!;
          grad.b[j] = grad.b[j]! + dn[j]!;
          const dx = dn[j]! * t.g[j]!;
          dr[j] = dx;
          mean1 += dx;
          mean2 += dx * model.xhat[j]!;
        }
        mean1 /= d;
        mean2 /= d;
        const ao = i * m;
        for (let j = 0; j < d; j++) {
          const g = (dr[j]! - mean1 - model.xhat[j]! * mean2) / model.sigma;
          grad.b2[j] = grad.b2[j]! + g;
          const wo = j * m;
          for (let c = 0; c < m; c++) grad.W2[wo + c] = grad.W2[wo + c]! + g * feats.a[ao + c]!;
        }
      }
      step++;
      // linear decay to zero over the run
      const lr = o.lr * (1 - (step - 1) / totalSteps);
      const bc1 = 1 - o.beta1 ** step;
      const bc2 = 1 - o.beta2 ** step;
      keys.forEach((k, ki) => {
        const p = t[k];
        const gk = grad[k];
        const p0 = init[k];
        const a1 = m1[ki]!;
        const a2 = m2[ki]!;
        for (let j = 0; j < p.length; j++) {
          const gj = gk[j]! / idx.length + o.weightDecayToPretrained * (p[j]! - p0[j]!);
          a1[j] = o.beta1 * a1[j]! + (1 - o.beta1) * gj;
          a2[j] = o.beta2 * a2[j]! + (1 - o.beta2) * gj * gj;
          p[j] = p[j]! - (lr * (a1[j]! / bc1)) / (Math.sqrt(a2[j]! / bc2) + o.eps);
        }
      });
    }
    log(`  epoch ${epoch + 1}/${o.epochs}: mean training loss ${(lossSum / order.length).toFixed(4)}`);
  }
  return { W2: roundF16(t.W2), b2: roundF16(t.b2), g: roundF16(t.g), b: roundF16(t.b) };
}

/** θ0 + λ Σ (θ_i − θ0), in float32 per tensor as the task_arithmetic method computes it. */
function taskArithmetic(base: Tuned, models: readonly Tuned[], lambda: number): Tuned {
  const merge = (k: keyof Tuned) => {
    const out = new Float32Array(base[k].length);
    for (let j = 0; j < out.length; j++) {
      let tv = 0;
      for (const mdl of models) tv = Math.fround(tv + Math.fround(mdl[k][j]! - base[k][j]!));
      out[j] = base[k][j]! + Math.fround(lambda * tv);
    }
    return out;
  };
  return { W2: merge('W2'), b2: merge('b2'), g: merge('g'), b: merge('b') };
}

// ------------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const t0 = Date.now();
  const log = (s: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}\n`);
  const modelsDir = join(OUT, 'models');
  const pre = join(modelsDir, 'tiny-clip');

  // 1. The "pretrained" CLIPModel: seeded random weights, stored as float16.
  const clipJson = clipConfigJson();
  const vcfg = clipVisionConfigFrom(clipJson, 'demo config');
  const tcfg = clipTextConfigFrom(clipJson, 'demo config');
  const raw = randomClipStateDict({ vision: vcfg, text: tcfg, projectionDim: SETTINGS.projectionDim }, SETTINGS.seed);
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const n of raw.names()) {
    let data = n === 'logit_scale' ? Float32Array.of(SETTINGS.logitScale) : raw.loadF32(n);
    if (n === 'vision_model.embeddings.position_embedding.weight') {
      // the patch rows only: row 0 (the CLS token's) adds the same offset to every image's CLS feature
      const d = SETTINGS.vision.hidden_size;
      data = data.map((x, i) => (i < d ? x : x * SETTINGS.positionEmbeddingGain));
    }
    if (n === 'vision_model.embeddings.class_embedding') data = data.map((x) => x * SETTINGS.classEmbeddingGain);
    tensors.set(n, { shape: raw.info(n).shape, data: roundF16(data) });
  }
  writeF16Checkpoint(pre, tensors);
  writeJson(join(pre, 'config.json'), clipJson);
  writeJson(join(pre, 'preprocessor_config.json'), preprocessorConfig());
  writeTokenizer(pre);
  const sd = new MemoryStateDict([...tensors].map(([n, t]) => [n, makeTensor('F32', t.shape, t.data)] as const));
  log(`pretrained tiny-clip written (${tensors.size} tensors)`);

  // 2. Zero-shot heads from the pretrained text tower, exactly as the task pool builds them.
  const tokenizer = CLIPTokenizer.fromDir(pre);
  const text = await ClipTextSession.create(tcfg, sd, { projection: sd.loadF32('text_projection.weight'), threads: 2 });
  const heads = {} as Record<Task, ZeroShotHead>;
  for (const task of TASKS) heads[task] = await computeZeroShotHead(text, tokenizer, await getClassnamesAndTemplates(task));
  await text.dispose();

  // 3. Frozen features of the training, validation and demo images.
  const processor = CLIPImageProcessor.fromConfig(preprocessorConfig());
  const data = {} as Record<Task, { train: Slice; val: Slice; demo: Slice }>;
  const feats = {} as Record<Task, { train: Features; val: Features; demo: Features }>;
  for (const task of TASKS) {
    const tr = SETTINGS.train[task];
    data[task] = {
      train: readSlice(task, tr.split, tr.start, tr.n),
      val: readSlice(task, 'test', SETTINGS.validation.start, SETTINGS.validation.n),
      demo: readSlice(task, 'test', SETTINGS.demo.start, SETTINGS.demo.n),
    };
    feats[task] = {
      train: await frozenFeatures(vcfg, sd, processor, data[task].train),
      val: await frozenFeatures(vcfg, sd, processor, data[task].val),
      demo: await frozenFeatures(vcfg, sd, processor, data[task].demo),
    };
    log(`features of ${task}: ${tr.n} training, ${SETTINGS.validation.n} validation, ${SETTINGS.demo.n} demo images`);
  }

  const L = vcfg.numHiddenLayers;
  const names = TUNED_NAMES(L);
  const base: Tuned = { W2: sd.loadF32(names.W2), b2: sd.loadF32(names.b2), g: sd.loadF32(names.g), b: sd.loadF32(names.b) };
  const fixed: Fixed = { d: vcfg.hiddenSize, m: vcfg.intermediateSize, e: SETTINGS.projectionDim, P: sd.loadF32('visual_projection.weight'), scale: Math.fround(Math.exp(Math.fround(SETTINGS.logitScale))), eps: vcfg.layerNormEps };
  const models = {} as Record<Task, HeadModel>;
  for (const task of TASKS) models[task] = new HeadModel(fixed, heads[task]);

  // Cross-check: the JS head on the frozen features reproduces onnxruntime's full pretrained tower.
  {
    const full = await ClipVisionSession.create(vcfg, sd, { projection: fixed.P, threads: 2 });
    const per = 3 * SETTINGS.image * SETTINGS.image;
    const px = new Float32Array(8 * per);
    for (let i = 0; i < 8; i++) processor.preprocessInto({ width: 28, height: 28, channels: 1, mode: 'L', data: data.mnist.demo.pixels[i]! }, px, i * per);
    const ort = (await full.run(px, 8)).embeds!;
    await full.dispose();
    let worst = 0;
    for (let i = 0; i < 8; i++) {
      models.mnist.forward(base, feats.mnist.demo, i);
      let nn = 0;
      for (let k = 0; k < fixed.e; k++) nn += ort[i * fixed.e + k]! ** 2;
      for (let k = 0; k < fixed.e; k++) worst = Math.max(worst, Math.abs(ort[i * fixed.e + k]! / Math.sqrt(nn) - models.mnist.emb[k]!));
    }
    if (worst > 1e-4) throw new Error(`JS head disagrees with onnxruntime by ${worst}`);
    log(`JS head matches onnxruntime (max abs difference of unit embeddings ${worst.toExponential(2)})`);
  }

  // 4. Fine-tune one tower per task.
  const tuned = {} as Record<Task, Tuned>;
  for (const [ti, task] of TASKS.entries()) {
    log(`fine-tuning on ${task}`);
    tuned[task] = fineTune(models[task], base, feats[task].train, data[task].train.labels, SETTINGS.seed + 1 + ti, log);
    const ft = new Map(tensors);
    for (const k of ['W2', 'b2', 'g', 'b'] as const) ft.set(names[k], { shape: tensors.get(names[k])!.shape, data: tuned[task][k] });
    const dir = join(modelsDir, `tiny-clip-${task}`);
    writeF16Checkpoint(dir, new Map([...ft].filter(([n]) => n.startsWith('vision_model.'))));
    writeJson(join(dir, 'config.json'), visionModelConfigJson(task));
  }

  // 5. Measure: every model on every task, validation and demo slices.
  const results: Record<string, Record<string, { validation: number; demo: number }>> = {};
  const measure = (label: string, t: Tuned) => {
    results[label] = {};
    for (const task of TASKS) {
      results[label]![task] = {
        validation: accuracy(models[task], t, feats[task].val, data[task].val.labels),
        demo: accuracy(models[task], t, feats[task].demo, data[task].demo.labels),
      };
    }
  };
  measure('pretrained', base);
  for (const task of TASKS) measure(`fine-tuned ${task}`, tuned[task]);
  for (const lam of SETTINGS.scalingFactors) measure(`task arithmetic λ=${lam}`, taskArithmetic(base, [tuned.mnist, tuned.fashion_mnist], lam));
  for (const [label, r] of Object.entries(results)) {
    log(`${label.padEnd(26)} ${TASKS.map((t) => `${t} val ${(100 * r[t]!.validation).toFixed(1)}% demo ${(100 * r[t]!.demo).toFixed(1)}%`).join('  ')}`);
  }

  // 6. The demo's data: the evaluation slices as Hugging Face parquet with PNG images.
  for (const task of TASKS) log(`wrote ${writeDemoDataset(task)}`);
  writeJson(join(OUT, 'build-report.json'), { settings: SETTINGS, accuracy: results });
  log('done');
}

await main();
