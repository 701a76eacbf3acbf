/**
 * safetensors I/O on a ViT-B/32-sized CLIP vision tower (87.5M float32 parameters, real tensor names):
 * streamed write (random generation included), lazy read of every tensor, file→file rewrite, F32→F16
 * conversion on write and F16→F32 on read. Writes fsync before renaming (the default) unless marked no_fsync. GB/s counts tensor bytes (1 GB = 1e9 B); peak RSS is
 * `process.resourceUsage().maxRSS` after each stage (it only grows). Prints JSON.
 * Usage: node dist/bench/tensor-io.js [--layers 12] [--keep]
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '../src/tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../src/tensor/safetensors-write.js';
import type { StateDict } from '../src/tensor/types.js';
import { RandomClipVisionStateDict, writeRandomClipVisionModel } from './lib/random-model.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/tensor-io.js [--layers 12] [--keep]';
const { values } = benchArgs(USAGE, { options: { layers: { type: 'string', default: '12' }, keep: { type: 'boolean', default: false } } });
const layers = Number(values.layers);
const dir = mkdtempSync(join(tmpdir(), 'fb-tensor-io-'));

const maxRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const gbps = (bytes: number, ms: number) => Number((bytes / 1e9 / (ms / 1000)).toFixed(3));

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t };
}

/** Loads every tensor once, touching one value so nothing is optimised away. */
function readAll(sd: StateDict): number {
  let bytes = 0;
  let sink = 0;
  for (const n of sd.names()) {
    const a = sd.loadF32(n);
    bytes += a.byteLength;
    sink += a[a.length >> 1] ?? 0;
  }
  if (Number.isNaN(sink)) console.error('NaN in data');
  return bytes;
}

const results: Record<string, unknown> = {};
const baselineRss = maxRssMB();
try {
  const gen = new RandomClipVisionStateDict({ layers, seed: 1 });
  const generateOnly = timed(() => readAll(gen));
  results.generate_only = { ms: Math.round(generateOnly.ms), gb_per_s: gbps(generateOnly.value, generateOnly.ms) };

  const src = join(dir, 'src');
  mkdirSync(src);
  const write = timed(() => writeRandomClipVisionModel(src, { layers, seed: 1 }));
  const fileBytes = statSync(write.value.files[0]!).size;
  results.model = { params: write.value.params, tensors: gen.names().length, file_bytes: fileBytes };
  results.generate_and_write_f32 = { ms: Math.round(write.ms), gb_per_s: gbps(write.value.totalBytes, write.ms), write_only_gb_per_s_est: gbps(write.value.totalBytes, write.ms - generateOnly.ms), max_rss_mb: maxRssMB() };

  const file = openSafetensors(write.value.files[0]!);
  const read = timed(() => readAll(file));
  results.read_f32_loadF32 = { ms: Math.round(read.ms), gb_per_s: gbps(read.value, read.ms), max_rss_mb: maxRssMB() };

  const copy = timed(() => writeSafetensorsSync(join(dir, 'copy.safetensors'), file));
  results.rewrite_f32_file_to_file = { ms: Math.round(copy.ms), gb_per_s: gbps(copy.value.totalBytes, copy.ms), max_rss_mb: maxRssMB() };
  const copyNoSync = timed(() => writeSafetensorsSync(join(dir, 'copy.safetensors'), file, { fsync: false }));
  results.rewrite_f32_file_to_file_no_fsync = { ms: Math.round(copyNoSync.ms), gb_per_s: gbps(copyNoSync.value.totalBytes, copyNoSync.ms), max_rss_mb: maxRssMB() };

  const toF16 = timed(() => writeSafetensorsSync(join(dir, 'half.safetensors'), file, { dtypes: () => 'F16' }));
  results.rewrite_f32_to_f16 = { ms: Math.round(toF16.ms), input_gb_per_s: gbps(write.value.totalBytes, toF16.ms), max_rss_mb: maxRssMB() };
  const toBf16 = timed(() => writeSafetensorsSync(join(dir, 'bhalf.safetensors'), file, { dtypes: () => 'BF16' }));
  results.rewrite_f32_to_bf16 = { ms: Math.round(toBf16.ms), input_gb_per_s: gbps(write.value.totalBytes, toBf16.ms), max_rss_mb: maxRssMB() };
  file.close();

  const half = openSafetensors(join(dir, 'half.safetensors'));
  const readHalf = timed(() => readAll(half));
  results.read_f16_to_f32 = { ms: Math.round(readHalf.ms), output_gb_per_s: gbps(readHalf.value, readHalf.ms), max_rss_mb: maxRssMB() };
  half.close();

  results.largest_tensor_mb = Number(((3072 * 768 * 4) / 2 ** 20).toFixed(1));
  results.baseline_rss_mb = baselineRss;
  results.peak_rss_mb = maxRssMB();
  results.node = process.version;
  results.note = 'page cache warm after the write; one tensor in memory at a time';
  console.log(JSON.stringify({ bench: 'tensor-io', layers, ...results }, null, 2));
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  else console.error(`kept ${dir}`);
}
