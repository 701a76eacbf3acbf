/**
 * Without WebAssembly (FUSION_BENCH_NO_WASM=1, as on a runtime lacking SIMD) image decoding and CLIP's
 * preprocessing take the JavaScript paths and give the same floats and crops as with the kernels:
 * checked in child processes, since the choice is made once per thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const src = (m: string) => new URL(`../../src/${m}`, import.meta.url).href;

/** sha256 of every fixture JPEG's preprocessed floats and uint8 crop (two processor configs), in a child with `env`. */
function digestInChild(env: Record<string, string>): string {
  const code = `
    import { createHash } from 'node:crypto';
    import { readdirSync, readFileSync } from 'node:fs';
    import { decodeImage } from ${JSON.stringify(src('image/decode.js'))};
    import { CLIPImageProcessor } from ${JSON.stringify(src('models/clip/image-processor.js'))};
    const dir = ${JSON.stringify(join(repoRoot, 'test', 'fixtures', 'jpeg'))};
    const procs = [CLIPImageProcessor.fromConfig({ size: 224, crop_size: 224, resample: 3 }),
      CLIPImageProcessor.fromConfig({ size: { height: 40, width: 30 }, crop_size: { height: 48, width: 20 }, resample: 1 })];
    const h = createHash('sha256');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort()) {
      let img;
      try { img = decodeImage(readFileSync(dir + '/' + f), f); } catch (e) { h.update(f + ': ' + e.message); continue; }
      if (img.width * img.height > 1 << 20) continue;
      for (const p of procs) {
        const out = new Float32Array(3 * p.config.cropSize.height * p.config.cropSize.width);
        p.preprocessInto(img, out);
        h.update(new Uint8Array(out.buffer));
        h.update(p.resizeCropU8(img).data);
      }
    }
    console.log(h.digest('hex'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('decoding and preprocessing give the same bytes with and without the WebAssembly kernels', () => {
  const withWasm = digestInChild({});
  assert.match(withWasm, /^[0-9a-f]{64}$/);
  assert.equal(digestInChild({ FUSION_BENCH_NO_WASM: '1' }), withWasm);
});
