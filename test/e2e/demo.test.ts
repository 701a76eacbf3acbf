/**
 * The README's main job, end to end through the real binary: `fusion-bench --config-name demo` merges
 * the demo models and evaluates them. Its report is checked against an independent computation: task
 * arithmetic and both CLIP towers in float64 (test/clip-model/reference.ts, no onnxruntime), the
 * zero-shot head built from the same prompts, fusion_bench's metrics. Then a sweep over λ writes its
 * summary and plots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import { binPath, repoRoot } from '../helpers/paths.js';
import { openCheckpoint } from '../../src/tensor/checkpoint.js';
import { MemoryStateDict } from '../../src/tensor/memory-state-dict.js';
import { readClipConfig } from '../../src/models/clip/config.js';
import { CLIPTokenizer } from '../../src/models/clip/tokenizer.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';
import { loadImageClassificationDataset } from '../../src/data/load.js';
import { getClassnamesAndTemplates, classPrompts } from '../../src/tasks/clip-classification/index.js';
import { referenceText, referenceVision } from '../clip-model/reference.js';
import { referenceMetrics } from '../taskpool/support.js';
import type { StateDict } from '../../src/tensor/types.js';

const demo = join(repoRoot, 'demo');
/** The demo's λ, as its method config sets it. */
const LAMBDA = Number((parseYaml(readFileSync(join(repoRoot, 'config', 'method', 'demo', 'task_arithmetic.yaml'), 'utf8')) as { scaling_factor: unknown }).scaling_factor);

function normalizeRows(x: Float64Array, rows: number, d: number): Float64Array {
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let j = 0; j < d; j++) n += x[r * d + j] ** 2;
    n = Math.sqrt(n);
    for (let j = 0; j < d; j++) x[r * d + j] /= n;
  }
  return x;
}

/** x (rows × inDim) · Wᵀ with W (outDim × inDim), float64. */
function project(x: Float64Array, rows: number, inDim: number, w: Float32Array, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) {
    let s = 0;
    for (let i = 0; i < inDim; i++) s += x[r * inDim + i] * w[o * inDim + i];
    y[r * outDim + o] = s;
  }
  return y;
}

function mergedVision(base: StateDict, tuned: StateDict[]): StateDict {
  const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const name of tuned[0].names()) {
    const t0 = base.loadF32(name);
    const ts = tuned.map((t) => t.loadF32(name));
    const out = new Float32Array(t0.length);
    for (let i = 0; i < out.length; i++) {
      let tau = 0;
      for (const t of ts) tau += t[i] - t0[i];
      out[i] = t0[i] + LAMBDA * tau;
    }
    tensors.set(name, { dtype: 'F32', shape: [...base.info(name).shape], data: out });
  }
  return new MemoryStateDict(tensors as never);
}

async function independentMetrics(task: string, batchSize: number): Promise<{ accuracy: number; loss: number }> {
  const pre = openCheckpoint(join(demo, 'models', 'tiny-clip'));
  const cfg = readClipConfig(JSON.parse(readFileSync(join(demo, 'models', 'tiny-clip', 'config.json'), 'utf8')));
  const tuned = ['tiny-clip-mnist', 'tiny-clip-fashion_mnist'].map((m) => openCheckpoint(join(demo, 'models', m)));
  const vision = mergedVision(pre, tuned);
  const p = cfg.projectionDim;

  // zero-shot head: normalised mean of normalised prompt embeddings, from the pretrained text tower
  const tok = CLIPTokenizer.fromDir(join(demo, 'models', 'tiny-clip'));
  const { classnames, templates } = await getClassnamesAndTemplates(task);
  const tw = pre.loadF32('text_projection.weight');
  const head = new Float64Array(classnames.length * p);
  classnames.forEach((c, k) => {
    const prompts = classPrompts(templates, c);
    const enc = tok.encodeBatch(prompts, { padding: 'longest' });
    const ids = enc.inputIds.flat();
    const mask = enc.attentionMask.flat();
    const { pooled } = referenceText(cfg.text!, pre, ids, prompts.length, mask);
    const e = normalizeRows(project(pooled, prompts.length, cfg.text!.hiddenSize, tw, p), prompts.length, p);
    for (let r = 0; r < prompts.length; r++) for (let j = 0; j < p; j++) head[k * p + j] += e[r * p + j] / prompts.length;
  });
  normalizeRows(head, classnames.length, p);

  const ds = await loadImageClassificationDataset({ path: 'parquet', data_files: { test: join(demo, 'data', task, 'data', 'test-00000-of-00001.parquet') }, split: 'test' });
  const proc = CLIPImageProcessor.fromDir(join(demo, 'models', 'tiny-clip'));
  const vw = pre.loadF32('visual_projection.weight');
  const scale = Math.exp(pre.loadF32('logit_scale')[0]);
  const labels: number[] = [];
  const logits = new Float64Array(ds.length * classnames.length);
  const chunk = 50;
  for (let s = 0; s < ds.length; s += chunk) {
    const n = Math.min(chunk, ds.length - s);
    const imgs = [];
    for (let i = s; i < s + n; i++) {
      const { image, label } = await ds.getRGB(i);
      imgs.push(image);
      labels.push(label);
    }
    const { pooled } = referenceVision(cfg.vision!, vision, proc.preprocessBatch(imgs), n);
    const emb = normalizeRows(project(pooled, n, cfg.vision!.hiddenSize, vw, p), n, p);
    for (let r = 0; r < n; r++) for (let k = 0; k < classnames.length; k++) {
      let dot = 0;
      for (let j = 0; j < p; j++) dot += emb[r * p + j] * head[k * p + j];
      logits[(s + r) * classnames.length + k] = scale * dot;
    }
  }
  return referenceMetrics(logits, labels, classnames.length, batchSize);
}

function fusionBench(cwd: string, args: string[]) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('FUSION_BENCH_') || k === 'HYDRA_FULL_ERROR') delete env[k];
  return spawnSync(process.execPath, [binPath, ...args], { cwd, encoding: 'utf8', env: { ...env, HF_HUB_OFFLINE: '1' }, timeout: 300_000 });
}

test('the demo job: report structure and numbers match an independent float64 computation; a λ sweep writes its summary and plots', { timeout: 600_000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'fb-demo-'));
  try {
    const r = fusionBench(cwd, ['--config-name', 'demo']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Profiler Report/);
    const runs = readdirSync(join(cwd, 'outputs', 'demo'));
    assert.equal(runs.length, 1);
    const runDir = join(cwd, 'outputs', 'demo', runs[0]);
    for (const f of ['config.yaml', 'hydra.yaml', 'overrides.yaml', 'program_report.json']) assert.ok(existsSync(join(runDir, f)), f);
    const report = JSON.parse(readFileSync(join(runDir, 'program_report.json'), 'utf8'));

    const taskKeys = Object.keys(report).filter((k) => k !== 'model_info' && k !== 'average' && k !== 'run_info');
    assert.deepEqual(taskKeys, ['mnist', 'fashion_mnist']);
    assert.ok(report.model_info.all_params > 0);
    for (const task of taskKeys) {
      const ours = report[task];
      const ref = await independentMetrics(task, 250);
      // float32 on onnxruntime against float64 here: a near-tie may flip one image at most
      assert.ok(Math.abs(ours.accuracy - ref.accuracy) <= 1 / 500 + 1e-12, `${task} accuracy ${ours.accuracy} vs ${ref.accuracy}`);
      assert.ok(Math.abs(ours.loss - ref.loss) <= 1e-4 * Math.max(1, ref.loss), `${task} loss ${ours.loss} vs ${ref.loss}`);
    }
    const avg = (k: 'accuracy' | 'loss') => taskKeys.reduce((s, t) => s + report[t][k], 0) / taskKeys.length;
    assert.ok(Math.abs(report.average.accuracy - avg('accuracy')) < 1e-12);
    assert.ok(Math.abs(report.average.loss - avg('loss')) < 1e-12);

    const sweepDir = join(cwd, 'sweep');
    const s = fusionBench(cwd, ['--config-name', 'demo', '-m', `method.scaling_factor=0.3,${LAMBDA}`, `hydra.sweep.dir=${sweepDir}`]);
    assert.equal(s.status, 0, s.stderr);
    for (const f of ['multirun.yaml', 'sweep_summary.json', 'sweep_summary.csv', 'sweep_summary.md', 'sweep_summary.svg', 'sweep_summary.png']) {
      assert.ok(existsSync(join(sweepDir, f)), `${f} missing`);
    }
    const summary = readFileSync(join(sweepDir, 'sweep_summary.json'), 'utf8');
    assert.match(summary, /0\.3/);
    assert.match(readFileSync(join(sweepDir, 'sweep_summary.md'), 'utf8'), /mnist/);
    assert.match(readFileSync(join(sweepDir, 'sweep_summary.svg'), 'utf8'), /<svg[\s\S]*<\/svg>\s*$/);
    // the job with the demo's λ reproduces the single run
    const job1 = JSON.parse(readFileSync(join(sweepDir, '1', 'program_report.json'), 'utf8'));
    assert.equal(job1.mnist.accuracy, report.mnist.accuracy);
    assert.equal(job1.fashion_mnist.accuracy, report.fashion_mnist.accuracy);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
