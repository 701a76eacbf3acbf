/**
 * CLIP input pipeline throughput: tokenizer (cold and warm BPE cache), PNG decode, CLIPImageProcessor
 * (28×28 grey and 32×32 RGB → 224, Pillow bicubic + crop + normalise into one batch buffer), and
 * sequential reading of a 10 000-row HF-layout parquet split. Uses ../shared's tokenizer and MNIST
 * when present, synthetic data otherwise. Prints JSON. Usage: node dist/bench/clip-inputs.js [--n 2000]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodePng } from 'fast-png';
import { CLIPTokenizer } from '../src/models/clip/tokenizer.js';
import { CLIPImageProcessor } from '../src/models/clip/image-processor.js';
import { decodeImageRGB, type DecodedImage } from '../src/image/decode.js';
import { loadImageClassificationDataset } from '../src/data/load.js';
import { idxSliceAsPngs, writeHfParquetDataset } from '../test/helpers/datasets.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/clip-inputs.js [--n 2000]';
const { values } = benchArgs(USAGE, { options: { n: { type: 'string', default: '2000' } } });
const n = Number(values.n);
const here = fileURLToPath(new URL('.', import.meta.url));
const shared = [resolve(here, '../../../shared'), resolve(here, '../../shared')].find((p) => existsSync(join(p, 'README.md'))) ?? null;
const maxRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);
const rate = (count: number, ms: number) => Math.round(count / (ms / 1000));

async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t };
}

const result: Record<string, unknown> = { n, shared: shared !== null };

if (shared) {
  const tok = CLIPTokenizer.fromDir(join(shared, 'fixtures', 'clip', 'tokenizer'));
  const words = ['photo', 'number', 'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck', 'blurry', 'bright', 'dark'];
  const texts = Array.from({ length: n }, (_, i) => `a ${words[i % 15]} photo of the ${words[(i * 7) % 15]} number: "${i}".`);
  const cold = await timed(() => tok.encodeBatch(texts, { padding: 'max_length', maxLength: 77, truncation: true }));
  const warm = await timed(() => tok.encodeBatch(texts, { padding: 'max_length', maxLength: 77, truncation: true }));
  result.tokenizer = { texts: n, cold_texts_per_s: rate(n, cold.ms), warm_texts_per_s: rate(n, warm.ms) };
}

let pngs: Uint8Array[];
let labels: number[];
if (shared) {
  const s = idxSliceAsPngs(join(shared, 'data', 'mnist', 't10k-images-idx3-ubyte.gz'), join(shared, 'data', 'mnist', 't10k-labels-idx1-ubyte.gz'), 0, 10000);
  pngs = s.images;
  labels = s.labels;
} else {
  pngs = Array.from({ length: 10000 }, (_, i) => encodePng({ width: 28, height: 28, channels: 1, depth: 8, data: new Uint8Array(784).map((_, p) => (p * 7 + i) & 255) }));
  labels = pngs.map((_, i) => i % 10);
}

const decoded = await timed(() => pngs.slice(0, n).map((b) => decodeImageRGB(b)));
result.png_decode = { images: n, images_per_s: rate(n, decoded.ms) };

const proc = CLIPImageProcessor.fromConfig({ size: 224, crop_size: 224, resample: 3 });
const batch = 64;
const buf = new Float32Array(batch * 3 * 224 * 224);
const run = async (imgs: DecodedImage[]) =>
  (
    await timed(() => {
      for (let i = 0; i < imgs.length; i += batch) proc.preprocessBatch(imgs.slice(i, i + batch), buf);
    })
  ).ms;
const greyMs = await run(decoded.value);
const rgb32: DecodedImage[] = Array.from({ length: n }, (_, i) => ({ width: 32, height: 32, channels: 3, mode: 'RGB', data: new Uint8Array(3072).map((_, p) => (p * 13 + i) & 255) }));
const rgbMs = await run(rgb32);
result.preprocess_224 = { mnist28_images_per_s: rate(n, greyMs), rgb32_images_per_s: rate(n, rgbMs), batch };

const dir = mkdtempSync(join(tmpdir(), 'fb-bench-data-'));
try {
  const write = await timed(() => writeHfParquetDataset(dir, { split: 'test', images: pngs, labels, rowGroupSize: 1000 }));
  const open = await timed(() => loadImageClassificationDataset({ path: dir, split: 'test' }));
  const ds = open.value;
  const read = await timed(async () => {
    let sum = 0;
    for (let i = 0; i < ds.length; i++) sum += (await ds.get(i)).label;
    return sum;
  });
  result.dataset = { rows: ds.length, write_ms: Math.round(write.ms), open_ms: Math.round(open.ms), rows_per_s: rate(ds.length, read.ms) };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
result.peak_rss_mb = maxRssMB();
console.log(JSON.stringify(result, null, 2));
