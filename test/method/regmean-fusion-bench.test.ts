/**
 * `regmean/clip_regmean` against fusion_bench's own RegMeanAlgorithmForCLIP (its unmodified files, on
 * torch, through bench/compare/regmean_reference.py) on the same towers and images: the Gram matrices,
 * the averaged tensors and the solved linear weights. Runs where a Python with torch and a fusion_bench
 * checkout (FUSION_BENCH_SRC) are present, skips with a message elsewhere. Also: our config file and
 * declared defaults are fusion_bench's clip_regmean.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { parse } from 'yaml';
import { findTorchPython, fusionBenchSource, isNotMeasured, pythonCandidates, type ProbeResult } from '../../bench/lib/compare-env.js';
import { compareRegMean } from '../../bench/lib/regmean-reference.js';
import { RegMeanAlgorithmForCLIP } from '../../src/method/regmean/clip-regmean.js';
import { mulberry32 } from '../../src/util/prng.js';
import { writeHfParquetDataset } from '../helpers/datasets.js';
import { needsShared, repoRoot, sharedPath } from '../helpers/paths.js';
import { demoDir } from './demo-pool.js';

const fbSrc = fusionBenchSource(undefined, process.env, existsSync);
const probe = (py: string): ProbeResult => {
  const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true, version: r.stdout.trim() } : { ok: false, error: r.error?.message ?? r.stderr ?? `exit ${r.status}` };
};
// Probe for torch only where fusion_bench's source is given (the comparison needs both).
const torchPy = isNotMeasured(fbSrc) ? fbSrc : findTorchPython(pythonCandidates(undefined, process.env), probe);
const regmeanPy = isNotMeasured(fbSrc) ? '' : join(fbSrc, 'fusion_bench', 'method', 'regmean', 'clip_regmean.py');
const skip = isNotMeasured(fbSrc) ? fbSrc.notMeasured
  : !existsSync(regmeanPy) ? `${regmeanPy} absent: a fusion_bench checkout without RegMean for CLIP`
  : isNotMeasured(torchPy) ? torchPy.notMeasured : false;

/** A small train set of `n` structured random 28×28 RGB PNGs (gradients + noise), as a parquet split. */
function trainSet(dir: string, seed: number, n: number): Record<string, unknown> {
  const rnd = mulberry32(seed);
  const images: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const data = new Uint8Array(28 * 28 * 3);
    const [a, b, c] = [rnd(), rnd(), rnd()];
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) for (let ch = 0; ch < 3; ch++) {
      const v = 255 * (a * x / 28 + b * y / 28 + c * ch / 3) / 2 + 64 * (rnd() - 0.5);
      data[(y * 28 + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
    }
    images.push(encodePng({ width: 28, height: 28, data, channels: 3, depth: 8 }));
  }
  writeHfParquetDataset(dir, { split: 'train', images, labels: images.map((_, k) => k % 10) });
  return { _target_: 'datasets.load_dataset', path: dir, split: 'train' };
}

/** The assertions every case makes on the reference's report. */
function checkReport(r: Record<string, unknown>, images: number, layers: number): void {
  type Summary = { tensors: number; max_abs_diff: number; max_rel_diff: number; worst: string };
  const s = (k: string) => r[k] as Summary;
  const msg = JSON.stringify(r, null, 1);
  assert.deepEqual(r.keys_differ, [], 'the same tensor names');
  assert.deepEqual(r.ours_examples, { mnist: images, fashion_mnist: images });
  // Gram matrices: ONNX graph vs torch hooks, Σ then ÷ rows vs fusion_bench's running mean: float32 rounding.
  for (const g of Object.values(r.grams_ours_vs_fusion_bench as Record<string, Summary>)) {
    assert.equal(g.tensors, 6 * layers, 'q/k/v/out_proj, fc1, fc2 of every layer');
    assert.ok(g.max_rel_diff <= 1e-5, `Gram matrices differ: ${msg}`);
  }
  // Non-linear tensors: torch.stack(...).mean(0) of two float32 tensors, exactly.
  assert.equal(s('merged_other_ours_vs_fusion_bench').max_abs_diff, 0, msg);
  // Our solve is float64 Cholesky: exact up to the float32 rounding of R(Gᵢ) that torch also does.
  assert.ok(s('ours_vs_float64_on_our_grams').max_rel_diff <= 1e-5, msg);
  // fusion_bench's torch.inverse in float32 is what separates the two results: ours is no farther from
  // the exact merge of fusion_bench's own Gram matrices than fusion_bench's result is (+ the Gram noise).
  const fbErr = s('fusion_bench_vs_float64_on_its_grams').max_rel_diff;
  assert.ok(s('ours_vs_float64_on_fusion_bench_grams').max_rel_diff <= Math.max(fbErr, 1e-4), msg);
  // And the difference is float32 noise for the conditioning: float32 LU's relative error is a small
  // multiple of cond(Σ R(Gᵢ))·2⁻²⁴ (fusion_bench's own result on the demo's 500 images: 4.7 of those).
  assert.ok((r.ours_vs_fusion_bench_in_cond_eps32 as { max: number }).max <= 16, msg);
}

test('regmean/clip_regmean = fusion_bench\'s RegMeanAlgorithmForCLIP on the demo towers (ratio 0.95, batches of 8)', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-regmean-fb-'));
  try {
    const m = (n: string) => join(demoDir, 'models', n);
    const r = await compareRegMean({
      models: { _pretrained_: m('tiny-clip'), mnist: m('tiny-clip-mnist'), fashion_mnist: m('tiny-clip-fashion_mnist') },
      processor: m('tiny-clip'),
      trainDatasets: { mnist: trainSet(join(dir, 'a'), 1, 24), fashion_mnist: trainSet(join(dir, 'b'), 2, 24) },
      method: { num_regmean_examples: 24, dataloader_kwargs: { batch_size: 8 } },
    }, { python: (torchPy as { python: string }).python, fbSrc: fbSrc as string, threads: 1 });
    checkReport(r, 24, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('… on the tiny CLIP fixtures (every layer differs; ratio 0.3, an excluded weight, a last batch of 1)', { skip: skip || needsShared().skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-regmean-fb-'));
  try {
    const m = (n: string) => sharedPath('fixtures', 'clip', 'models', n);
    const r = await compareRegMean({
      models: { _pretrained_: m('tiny-clip'), mnist: m('tiny-clip-ft-a'), fashion_mnist: m('tiny-clip-ft-b') },
      processor: m('tiny-clip'),
      trainDatasets: { mnist: trainSet(join(dir, 'a'), 3, 16), fashion_mnist: trainSet(join(dir, 'b'), 4, 16) },
      method: { num_regmean_examples: 16, reduce_non_diagonal_ratio: 0.3, exclude_param_names_regex: ['vision_model\\.encoder\\.layers\\.1\\.mlp\\.fc1'], dataloader_kwargs: { batch_size: 5 } },
    }, { python: (torchPy as { python: string }).python, fbSrc: fbSrc as string, threads: 1 });
    checkReport(r, 16, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config/method/regmean/clip_regmean.yaml and the declared defaults = fusion_bench\'s clip_regmean.yaml', needsShared(), () => {
  const theirs = parse(readFileSync(sharedPath('conformance', 'hydra', 'fusion_bench', 'method', 'regmean', 'clip_regmean.yaml'), 'utf8')) as Record<string, unknown>;
  const ours = parse(readFileSync(join(repoRoot, 'config', 'method', 'regmean', 'clip_regmean.yaml'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(ours, theirs);
  const defaults = Object.fromEntries(RegMeanAlgorithmForCLIP.params.map((p) => [p.name, p.default]));
  const { _target_: _t, ...keys } = theirs;
  assert.deepEqual(defaults, keys);
});
