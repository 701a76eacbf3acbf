/**
 * RegMean for CLIP on the demo's tiny towers (their MNIST / Fashion-MNIST slices serve as train sets):
 * the Gram matrices from the ONNX graph equal Σ xᵀx of a float64 forward of the same images; the merged
 * tower equals fusion_bench's formulas evaluated in float64 with an independent solve; fusion_bench's edge
 * rules (ratio 0 = per-column weighted average, layers equal in every model come back unchanged,
 * excluded tensors keep the pretrained values, other tensors are averaged); bad input is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { ClipTaskData } from '../../src/method/gradient/clip-tasks.js';
import { RegMeanAlgorithmForCLIP } from '../../src/method/regmean/clip-regmean.js';
import { ClipGramSession } from '../../src/method/regmean/gram-session.js';
import { RegMeanSums } from '../../src/method/regmean/regmean-merge.js';
import { OrtGemm } from '../../src/method/regmean/ort-gemm.js';
import { jsRowGemm } from '../../src/method/linalg/solve.js';
import { mulberry32 } from '../../src/util/prng.js';
import { runContext } from '../../src/run-context.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import type { Model } from '../../src/modelpool/model.js';
import type { BaseModelPool } from '../../src/modelpool/base-pool.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { needsShared, sharedPath } from '../helpers/paths.js';
import { referenceVision } from '../clip-model/reference.js';
import { demoDataset, demoPool as pool0 } from './demo-pool.js';

const TASKS = ['mnist', 'fashion_mnist'];
const quiet = runContext({ status: null });
const train = { mnist: demoDataset('mnist', 'train'), fashion_mnist: demoDataset('fashion_mnist', 'train') };
const demoPool = (t: Record<string, unknown> = train) => pool0({ train_datasets: t });

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** All images of a task's train set in one batch. */
async function allImages(task: string): Promise<{ pixels: Float32Array; count: number }> {
  const ctx = await ClipTaskData.open(demoPool(), 'test');
  try {
    const b = await (await ctx.batches('train_datasets', task, 500, 1)).nextBatch();
    return { pixels: b.pixels, count: b.labels.length };
  } finally {
    ctx.close();
  }
}

test('Gram matrices from the ONNX graph = Σ xᵀx over token rows of a float64 forward, for every linear input', async () => {
  const pool = demoPool();
  const model = await pool.loadModel('mnist');
  const cfg = clipVisionConfigFrom(model.config!);
  const { pixels } = await allImages('mnist');
  const batch = 5;
  const px = pixels.subarray(0, batch * 3 * cfg.imageSize ** 2);
  const session = await ClipGramSession.create(cfg, model.stateDict, { threads: 1 });
  try {
    const layers = cfg.numHiddenLayers;
    const modules = session.grams.flatMap((g) => g.modules);
    const want = Array.from({ length: layers }, (_, l) => ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj', 'mlp.fc1', 'mlp.fc2'].map((m) => `vision_model.encoder.layers.${l}.${m}`)).flat();
    assert.deepEqual([...modules].sort(), [...want].sort(), 'every nn.Linear of CLIPVisionModel');
    assert.equal(session.grams.length, 4 * layers, 'q/k/v share one Gram matrix per layer');
    const ref = new Map<string, Float64Array>();
    referenceVision(cfg, model.stateDict, px, batch, (module, x, dim) => {
      const rows = x.length / dim;
      assert.equal(rows, batch * session.tokens, 'tokens are rows');
      const g = new Float64Array(dim * dim);
      for (let r = 0; r < rows; r++) for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) g[i * dim + j] = g[i * dim + j]! + x[r * dim + i]! * x[r * dim + j]!;
      ref.set(module, g);
    });
    const got = await session.run(px, batch);
    for (const [u, g] of session.grams.entries()) {
      assert.equal(got[u]!.length, g.dim * g.dim);
      for (const m of g.modules) {
        const r = ref.get(m)!;
        const d = maxDiff(got[u]!, r);
        assert.ok(d <= 2e-5 * maxAbs(r), `${m}: Gram differs by ${d} (max ${maxAbs(r)})`);
      }
    }
  } finally {
    await session.dispose();
    model.stateDict.close?.();
  }
});

/** x with a·x = b by Gaussian elimination with partial pivoting (a n×n, b n×m; float64). */
function gaussSolve(a0: Float64Array, b0: Float64Array, n: number, m: number): Float64Array {
  const a = a0.slice();
  const b = b0.slice();
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i * n + k]!) > Math.abs(a[p * n + k]!)) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) [a[k * n + j], a[p * n + j]] = [a[p * n + j]!, a[k * n + j]!];
      for (let j = 0; j < m; j++) [b[k * m + j], b[p * m + j]] = [b[p * m + j]!, b[k * m + j]!];
    }
    for (let i = k + 1; i < n; i++) {
      const f = a[i * n + k]! / a[k * n + k]!;
      if (f === 0) continue;
      for (let j = k; j < n; j++) a[i * n + j] = a[i * n + j]! - f * a[k * n + j]!;
      for (let j = 0; j < m; j++) b[i * m + j] = b[i * m + j]! - f * b[k * m + j]!;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    for (let j = 0; j < m; j++) {
      let s = b[k * m + j]!;
      for (let q = k + 1; q < n; q++) s -= a[k * n + q]! * b[q * m + j]!;
      b[k * m + j] = s / a[k * n + k]!;
    }
  }
  return b;
}

/**
 * Each task's model's mean Gram matrix of every linear input over 100 train images of `pool`, from the
 * same batches the method draws (2 of 50, seed = model index with no run seed) summed in float32 as it
 * does: module → one per model.
 */
async function meanGrams(pool: BaseModelPool, models: Model[]): Promise<Map<string, { g: Float64Array; d: number }[]>> {
  const out = new Map<string, { g: Float64Array; d: number }[]>();
  const ctx = await ClipTaskData.open(pool, 'test');
  for (const [i, t] of TASKS.entries()) {
    const cfg = clipVisionConfigFrom(models[i]!.config!);
    const s = await ClipGramSession.create(cfg, models[i]!.stateDict, { threads: 1 });
    try {
      const loader = await ctx.batches('train_datasets', t, 50, i);
      const sums = s.grams.map((g) => new Float32Array(g.dim ** 2));
      for (let k = 0; k < 2; k++) {
        const b = await loader.nextBatch();
        const grams = await s.run(b.pixels, b.labels.length);
        sums.forEach((sum, u) => {
          for (let e = 0; e < sum.length; e++) sum[e] = sum[e]! + grams[u]![e]!;
        });
      }
      s.grams.forEach((g, u) => {
        const mean = { g: Float64Array.from(sums[u]!, (v) => Math.fround(v / (100 * s.tokens))), d: g.dim };
        for (const m of g.modules) out.set(m, [...(out.get(m) ?? []), mean]);
      });
    } finally {
      await s.dispose();
    }
  }
  ctx.close();
  return out;
}

/**
 * fusion_bench's merging_with_regmean_weights for one weight, in float64: [out, in] transposed
 * (weight_transpose), or [in, cols] as stored.
 */
function regmeanReference(grams: { g: Float64Array; d: number }[], weights0: Float32Array[], ratio: number, transposed = true): Float64Array {
  const d = grams[0]!.d;
  const out = weights0[0]!.length / d;
  // as [out, in]
  const weights = transposed ? weights0 : weights0.map((w) => Float32Array.from(w, (_, k) => w[(k % d) * out + Math.floor(k / d)]!));
  const sumG = new Float64Array(d * d);
  const sumGW = new Float64Array(d * out);
  for (const [i, { g }] of grams.entries()) {
    // R(G) rounded to float32 as torch holds it
    const r = g.map((v, k) => (Math.floor(k / d) === k % d ? v : Math.fround(v * Math.fround(ratio))));
    for (let k = 0; k < d * d; k++) sumG[k] = sumG[k]! + r[k]!;
    const w = weights[i]!;
    for (let a = 0; a < d; a++) for (let c = 0; c < out; c++) {
      let s = 0;
      for (let q = 0; q < d; q++) s += r[a * d + q]! * w[c * d + q]!;
      sumGW[a * out + c] = sumGW[a * out + c]! + s;
    }
  }
  const x = gaussSolve(sumG, sumGW, d, out); // [in, out]
  if (!transposed) return x;
  const merged = new Float64Array(out * d);
  for (let a = 0; a < d; a++) for (let c = 0; c < out; c++) merged[c * d + a] = x[a * out + c]!;
  return merged;
}

test('RegMean\'s merge on synthetic Gram matrices = the float64 formulas: ratio 1, 0.3, 0; weight_transpose false; JavaScript and onnxruntime products', async () => {
  const ort = await OrtGemm.create({ executionProviders: ['cpu'], small: 0 });
  const rnd = mulberry32(7);
  const dims = [8, 12];
  const rows = 40;
  // per model: Σ xᵀx of random rows (scaled features), and weights [5, 8] and [12, 12]
  const models = [0, 1, 2].map(() => {
    const sums = dims.map((d) => {
      const x = Float64Array.from({ length: rows * d }, (_, k) => (rnd() - 0.5) * (1 + (k % d)));
      const g = new Float32Array(d * d);
      for (let r = 0; r < rows; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) g[i * d + j] = g[i * d + j]! + x[r * d + i]! * x[r * d + j]!;
      return g;
    });
    return { sums, w: new Map([['a.weight', Float32Array.from({ length: 40 }, () => rnd() - 0.5)], ['b.weight', Float32Array.from({ length: 144 }, () => rnd() - 0.5)]]) };
  });
  for (const [ratio, transposed, gemm] of [[1, true, jsRowGemm], [0.3, true, ort.rowGemm], [0, true, jsRowGemm], [0.5, false, ort.rowGemm]] as const) {
    const modules = [{ module: 'a', key: 'a.weight', shape: [5, 8] as [number, number], gram: 0 }, { module: 'b', key: 'b.weight', shape: [12, 12] as [number, number], gram: 1 }];
    const s = new RegMeanSums('test', dims, transposed ? modules : [modules[1]!], ratio, transposed);
    const means: { g: Float64Array; d: number }[][] = [[], []];
    for (const m of models) {
      const copies = m.sums.map((g) => g.slice());
      // the mean Gram matrices as the method forms them: Σ xᵀx / rows in float32
      copies.forEach((g, u) => means[u]!.push({ g: Float64Array.from(g, (v) => Math.fround(v / rows)), d: dims[u]! }));
      await s.add(copies, rows, (k) => m.w.get(k)!, gemm);
    }
    const got = await s.solve({ block: 5, gemm });
    for (const mod of transposed ? modules : [modules[1]!]) {
      const want = regmeanReference(means[mod.gram]!, models.map((m) => m.w.get(mod.key)!), ratio, transposed);
      const err = maxDiff(got.get(mod.key)!, want);
      assert.ok(err <= 1e-6 * maxAbs(want), `ratio ${ratio}, ${mod.key}${transposed ? '' : ' untransposed'}: differs by ${err}`);
    }
  }
  await ort.dispose();
});

test('RegMean of the demo towers = fusion_bench\'s formulas in float64 (ratio 0.95 and 0)', async () => {
  const pool = demoPool();
  const models = await Promise.all(['_pretrained_', ...TASKS].map((n) => pool.loadModel(n)));
  const [base, ...fts] = models;
  const names = base!.stateDict.names();
  const excluded = 'vision_model.encoder.layers.0.mlp.fc1.weight';
  const last = `vision_model.encoder.layers.${clipVisionConfigFrom(base!.config!).numHiddenLayers - 1}.mlp.fc2`;
  const grams = (await meanGrams(demoPool(), fts)).get(last)!;
  for (const ratio of [0.95, 0]) {
    const alg = new RegMeanAlgorithmForCLIP({ num_regmean_examples: 100, dataloader_kwargs: { batch_size: 50 }, reduce_non_diagonal_ratio: ratio, exclude_param_names_regex: ['vision_model\\.encoder\\.layers\\.0\\.mlp\\.fc1\\.w'] }, quiet);
    const merged = await alg.run(demoPool());
    try {
      assert.deepEqual(alg.examples, { mnist: 100, fashion_mnist: 100 });
      assert.deepEqual(merged.stateDict.names(), names);
      let linear = 0;
      for (const name of names) {
        const got = merged.stateDict.loadF32(name);
        const ws = fts.map((m) => m.stateDict.loadF32(name));
        if (name === excluded) {
          assert.deepEqual(got, base!.stateDict.loadF32(name), 'excluded: the pretrained values');
        } else if (/(proj|fc[12])\.weight$/.test(name)) {
          linear++;
          if (maxDiff(ws[0]!, ws[1]!) === 0) {
            // Both models hold the same layer: (Σ Gᵢ)⁻¹ Σ Gᵢ W = W.
            const d = maxDiff(got, ws[0]!);
            assert.ok(d <= 1e-7 * maxAbs(ws[0]!), `${name}: equal in both models, merged differs by ${d}`);
          }
        } else {
          assert.deepEqual(got, ws[0]!.map((v, i) => Math.fround(v + ws[1]![i]!) / 2), `${name}: the mean of the models`);
        }
      }
      assert.equal(linear, 6 * 3 - 1);
      // The one linear layer the demo's fine-tuning changed: the float64 reference.
      const ws = fts.map((m) => m.stateDict.loadF32(`${last}.weight`));
      assert.ok(maxDiff(ws[0]!, ws[1]!) > 0);
      const want = regmeanReference(grams, ws, ratio);
      const got = merged.stateDict.loadF32(`${last}.weight`);
      const err = maxDiff(got, want);
      assert.ok(err <= 1e-7 * maxAbs(want), `ratio ${ratio}: ${last}.weight differs by ${err} (max ${maxAbs(want)})`);
      if (ratio === 0) {
        // Diagonal Gram matrices: each input column is the average weighted by that feature's mean square.
        const d = grams[0]!.d;
        const out = ws[0]!.length / d;
        for (let c = 0; c < out; c++) for (let j = 0; j < d; j++) {
          const g0 = grams[0]!.g[j * d + j]!;
          const g1 = grams[1]!.g[j * d + j]!;
          const w = (g0 * ws[0]![c * d + j]! + g1 * ws[1]![c * d + j]!) / (g0 + g1);
          assert.ok(Math.abs(got[c * d + j]! - w) <= 1e-7 * maxAbs(want), `column average at [${c}, ${j}]`);
        }
      }
    } finally {
      merged.stateDict.close?.();
    }
  }
  for (const m of models) m.stateDict.close?.();
});

test('RegMean of the tiny CLIP fixtures (every layer differs between the models) = fusion_bench\'s formulas in float64', needsShared(), async () => {
  const dir = (n: string) => sharedPath('fixtures', 'clip', 'models', n);
  // the demo's MNIST / Fashion-MNIST slices as train sets, resized to the fixtures' 32 px
  const pool = () => new CLIPVisionModelPool({ models: { _pretrained_: dir('tiny-clip'), mnist: dir('tiny-clip-ft-a'), fashion_mnist: dir('tiny-clip-ft-b') }, processor: dir('tiny-clip'), platform: 'hf', train_datasets: train });
  const p = pool();
  const fts = await Promise.all(TASKS.map((n) => p.loadModel(n)));
  const grams = await meanGrams(p, fts);
  assert.equal(grams.size, 12, 'six linear layers in each of two layers');
  const merged = await new RegMeanAlgorithmForCLIP({ num_regmean_examples: 100, dataloader_kwargs: { batch_size: 50 } }, quiet).run(pool());
  try {
    for (const [module, g] of grams) {
      const ws = fts.map((m) => m.stateDict.loadF32(`${module}.weight`));
      assert.ok(maxDiff(ws[0]!, ws[1]!) > 0, `${module} differs between the models`);
      const want = regmeanReference(g, ws, 0.95);
      const err = maxDiff(merged.stateDict.loadF32(`${module}.weight`), want);
      assert.ok(err <= 1e-6 * maxAbs(want), `${module}.weight differs by ${err} (max ${maxAbs(want)})`);
    }
  } finally {
    merged.stateDict.close?.();
    for (const m of fts) m.stateDict.close?.();
  }
});

test('RegMean takes whole batches until num_regmean_examples (one pass at most), as fusion_bench\'s loop', async () => {
  for (const [num, bs, want] of [[70, 32, 96], [1000, 300, 500], [1, 7, 7]] as const) {
    const alg = new RegMeanAlgorithmForCLIP({ num_regmean_examples: num, dataloader_kwargs: { batch_size: bs, num_workers: 0 } }, quiet);
    const merged = await alg.run(demoPool());
    assert.deepEqual(alg.examples, { mnist: want, fashion_mnist: want }, `num ${num}, batch ${bs}`);
    assert.deepEqual(alg.reportExtras(), { regmean_examples: { mnist: want, fashion_mnist: want } });
    merged.stateDict.close?.();
  }
});

test('RegMean refuses bad input with one clear message', async () => {
  const fails = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  await assert.rejects(new RegMeanAlgorithmForCLIP({}, quiet).run(demoPool({ mnist: train.mnist })), fails(/no train_datasets entry for task 'fashion_mnist'/));
  await assert.rejects(new RegMeanAlgorithmForCLIP({}, quiet).run(pool0()), fails(/no train_datasets entry for task 'mnist'/));
  assert.throws(() => new RegMeanAlgorithmForCLIP({ num_regmean_examples: 0 }, quiet), fails(/num_regmean_examples/));
  assert.throws(() => new RegMeanAlgorithmForCLIP({ num_regmean_examples: 2.5 }, quiet), fails(/num_regmean_examples' must be an integer/));
  assert.throws(() => new RegMeanAlgorithmForCLIP({ reduce_non_diagonal_ratio: 1.5 }, quiet), fails(/reduce_non_diagonal_ratio/));
  assert.throws(() => new RegMeanAlgorithmForCLIP({ dataloader_kwargs: { batch_size: 0 } }, quiet), fails(/batch_size/));
  assert.throws(() => new RegMeanAlgorithmForCLIP({ exclude_param_names_regex: ['('] }, quiet), fails(/not a valid regular expression/));
  assert.throws(() => new RegMeanAlgorithmForCLIP({ num_fisher_examples: 3 }, quiet), fails(/unknown option 'num_fisher_examples'/));
  // fc1's weight is [384, 96]: multiplying the 96×96 Gram matrix by it untransposed is torch's shape error too.
  await assert.rejects(new RegMeanAlgorithmForCLIP({ weight_transpose: false, num_regmean_examples: 8, dataloader_kwargs: { batch_size: 8 } }, quiet).run(demoPool()), fails(/weight_transpose: false .*'vision_model\.encoder\.layers\.0\.mlp\.fc1'/));
  // Ratio 1 with 2 models × 1 image × 17 tokens = 34 rows < 96 features: the summed Gram matrix is singular.
  await assert.rejects(
    new RegMeanAlgorithmForCLIP({ reduce_non_diagonal_ratio: 1, num_regmean_examples: 1, dataloader_kwargs: { batch_size: 1 } }, quiet).run(demoPool()),
    fails(/summed Gram matrix of .* is singular .*rank at most 34, the token rows of all 2 models.*Lower reduce_non_diagonal_ratio .* or raise num_regmean_examples/),
  );
  // The demo's first LayerNorm has bias 0, so its outputs lie in a hyperplane: singular at ratio 1 whatever the data.
  await assert.rejects(
    new RegMeanAlgorithmForCLIP({ reduce_non_diagonal_ratio: 1, num_regmean_examples: 16, dataloader_kwargs: { batch_size: 16 } }, quiet).run(demoPool()),
    fails(/summed Gram matrix of 'vision_model\.encoder\.layers\.0\.self_attn\.q_proj', .*'vision_model\.encoder\.layers\.0\.self_attn\.v_proj' \(\[96, 96\]\) is singular .*LayerNorm whose bias is 0/),
  );
});
