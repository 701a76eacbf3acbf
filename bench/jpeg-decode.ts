/**
 * JPEG decode speed: our libjpeg-exact decoder against jpeg-js (the decoder it replaced), on 256×256
 * quality-75 4:2:0 files (baseline and progressive, test/fixtures/jpeg/bench), decoded round-robin.
 * Prints JSON. Usage: node dist/bench/jpeg-decode.js [--n 300]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';
import { decodeImageRGB } from '../src/image/decode.js';
import { repoRoot } from '../test/helpers/paths.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '300' } } });
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
result.max_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(result, null, 2));
