/**
 * JPEG decode speed: our libjpeg-exact decoder against jpeg-js (the decoder it replaced), on 256×256
 * quality-75 4:2:0 files (baseline and progressive, test/fixtures/jpeg/bench), decoded round-robin.
 * Then `clip_stages`: the CPU milliseconds per image of each preprocessing stage on bench/clip-eval's
 * inputs (its JPEGs 320×256 and PNGs 32×32, openai/clip-vit-base-patch32's preprocessor): decode, and
 * resize + centre crop + normalise, each by the default path (WebAssembly SIMD where available) and by
 * the JavaScript reference (jsOnly decoding; resizeU8 over the whole image, then crop and normalise).
 * Prints JSON. Usage: node dist/bench/jpeg-decode.js [--n 300]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeImageRGB, type DecodedImage } from '../src/image/decode.js';
import { decodeJpeg } from '../src/image/jpeg/index.js';
import { resizeCropJs } from '../src/image/resize-crop.js';
import { CLIPImageProcessor } from '../src/models/clip/image-processor.js';
import { repoRoot } from '../test/helpers/paths.js';
import { OPENAI_224_PREPROCESSOR, syntheticImages } from './lib/clip-images.js';
import { benchArgs } from './lib/args.js';

const USAGE = 'usage: node dist/bench/jpeg-decode.js [--n 300]';
const { values } = benchArgs(USAGE, { options: { n: { type: 'string', default: '300' } } });
const n = Number(values.n);
const dir = join(repoRoot, 'test', 'fixtures', 'jpeg', 'bench');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(dir, f))) }));

function measure(decode: (b: Uint8Array) => unknown, bytes: Uint8Array[]): number {
  for (const b of bytes.slice(0, 20)) decode(b); // warm-up
  const t = performance.now();
  for (const b of bytes) decode(b);
  return performance.now() - t;
}

const result: Record<string, unknown> = { n, image_size: '256x256' };
for (const f of files) {
  const inputs = Array.from({ length: n }, () => f.bytes);
  const ours = measure((b) => decodeImageRGB(b), inputs);
  const theirs = measure((b) => jpeg.decode(b, { useTArray: true, formatAsRGBA: false }), inputs);
  result[f.name] = {
    ours_images_per_s: Math.round(n / (ours / 1000)),
    jpeg_js_images_per_s: Math.round(n / (theirs / 1000)),
    ours_ms_per_image: +(ours / n).toFixed(3),
    jpeg_js_ms_per_image: +(theirs / n).toFixed(3),
  };
}
/** CPU milliseconds per call of `f` over `n` calls (after a warm-up), this thread alone doing work. */
function cpuMs(f: (i: number) => unknown, n: number): number {
  for (let i = 0; i < Math.min(n, 30); i++) f(i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f(i);
  const c = process.cpuUsage(c0);
  return +((c.user + c.system) / 1000 / n).toFixed(3);
}

const proc = CLIPImageProcessor.fromConfig(OPENAI_224_PREPROCESSOR);
const normalizer = new CLIPImageProcessor({ ...proc.config, doResize: false, doCenterCrop: false });
const floats = new Float32Array(3 * 224 * 224);
const stages: Record<string, unknown> = {};
for (const [format, h, w, reps] of [['jpeg', 256, 320, n], ['png', 32, 32, 4 * n]] as const) {
  const images = syntheticImages(16, h, w, format);
  const decoded = images.map((b) => decodeImageRGB(b));
  const at = (i: number) => decoded[i % decoded.length]!;
  const jsResizeCropNormalize = (img: DecodedImage) => {
    const size = proc.resizeSize(img.height, img.width);
    const crop = resizeCropJs(img, size.width, size.height, proc.cropWindow(size.height, size.width), proc.config.resample);
    normalizer.preprocessInto({ width: 224, height: 224, channels: 3, mode: 'RGB', data: crop }, floats);
  };
  const decode = cpuMs((i) => decodeImageRGB(images[i % images.length]!), reps);
  const rcn = cpuMs((i) => proc.preprocessInto(at(i), floats), reps);
  stages[`${format}_${w}x${h}`] = {
    bytes_per_image: Math.round(images.reduce((a, b) => a + b.length, 0) / images.length),
    decode_ms: decode,
    decode_js_reference_ms: format === 'jpeg' ? cpuMs((i) => decodeJpeg(images[i % images.length]!, { maxPixels: 1 << 28, what: 'bench', jsOnly: true }), reps) : decode,
    resize_crop_normalize_ms: rcn,
    resize_crop_normalize_js_reference_ms: cpuMs((i) => jsResizeCropNormalize(at(i)), reps),
    total_ms: +(decode + rcn).toFixed(3),
  };
}
result.clip_stages = stages;
result.max_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(result, null, 2));
