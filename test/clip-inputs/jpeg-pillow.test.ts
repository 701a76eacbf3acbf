// JPEG decoding against Pillow: every fixture decodes to exactly the bytes Pillow 9.4 (libjpeg-turbo)
// gives for Image.open(f).convert("RGB"), and hostile headers are refused before anything is allocated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, decodeImageRGB, MAX_IMAGE_PIXELS } from '../../src/image/decode.js';
import { UserError } from '../../src/errors.js';
import { repoRoot } from '../helpers/paths.js';

const dir = join(repoRoot, 'test', 'fixtures', 'jpeg');

interface Case {
  name: string;
  width: number;
  height: number;
  mode: string;
  sha256: string;
}

const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { pillow: string; cases: Case[] };

test('the fixtures cover what the decoder must reproduce', () => {
  const names = manifest.cases.map((c) => c.name);
  for (const want of ['baseline-420', 'baseline-422', 'baseline-444', 'progressive-420', 'gray', 'gray-progressive', 'cmyk', 'ycck', 'restart-rows-420', 'progressive-restart', 'h1v2-440', 'rgb', 'truncated-eoi',
    'truncated-simd', 'bad-huffman-code', 'restart-resync', 'progressive-unrefined', 'progressive-truncated', 'trailing-cut-segment']) {
    assert.ok(names.includes(want), `fixture ${want} is missing from manifest.json`);
  }
});

for (const c of manifest.cases) {
  test(`${c.name}: the same bytes as Pillow ${manifest.pillow}`, () => {
    const bytes = readFileSync(join(dir, `${c.name}.jpg`));
    const opened = decodeImage(bytes, c.name);
    // CMYK files come back converted to RGB (Pillow's convert("RGB") applied); greyscale stays L
    assert.equal(opened.mode, c.mode === 'L' ? 'L' : 'RGB');
    const rgb = decodeImageRGB(bytes, c.name);
    assert.deepEqual([rgb.width, rgb.height], [c.width, c.height]);
    const golden = join(dir, `${c.name}.rgb`);
    if (existsSync(golden)) {
      const want = readFileSync(golden);
      const got = Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength);
      if (!got.equals(want)) {
        let i = 0;
        while (got[i] === want[i]) i++;
        assert.fail(`${c.name}: first different byte at ${i} (pixel ${Math.floor(i / 3)}): got ${got[i]}, Pillow ${want[i]}`);
      }
    }
    assert.equal(createHash('sha256').update(rgb.data).digest('hex'), c.sha256);
  });
}

/** The fixture with its SOF's height and width replaced. */
function withDeclaredSize(name: string, width: number, height: number): Uint8Array {
  const bytes = Uint8Array.from(readFileSync(join(dir, `${name}.jpg`)));
  let p = 2;
  while (bytes[p + 1] !== 0xc0 && bytes[p + 1] !== 0xc2) p += 2 + ((bytes[p + 2]! << 8) | bytes[p + 3]!);
  bytes.set([height >> 8, height & 0xff, width >> 8, width & 0xff], p + 5);
  return bytes;
}

test('a tiny file declaring 16384x4096 pixels is refused before decoding, naming the image', () => {
  const bomb = withDeclaredSize('tiny-1x1', 16384, 4096);
  assert.ok(bomb.length < 1000);
  assert.throws(
    () => decodeImage(bomb, 'sun397 test row 12'),
    (e: unknown) => e instanceof UserError && /^sun397 test row 12: JPEG declares 16384x4096 pixels .* but holds only \d+ bytes of image data/.test(e.message),
  );
});

test('more pixels than PIL allows is a UserError, as for PNG', () => {
  assert.ok(65500 * 65500 > MAX_IMAGE_PIXELS);
  const big = withDeclaredSize('uniform-1024', 65500, 65500);
  assert.throws(
    () => decodeImage(big, 'row 3'),
    (e: unknown) => e instanceof UserError && /^row 3: image size 65500x65500 \(4290250000 pixels\) exceeds the limit of 178956970 pixels/.test(e.message),
  );
});

test('a file that ends before its EOI marker is truncated, as Pillow says', () => {
  // Pillow raises "image file is truncated" for each of these (checked with Pillow 9.4 / libjpeg-turbo 2.1.5)
  for (const name of ['baseline-420', 'progressive-420', 'restart-blocks-422']) {
    const bytes = readFileSync(join(dir, `${name}.jpg`));
    assert.deepEqual([...bytes.subarray(bytes.length - 2)], [0xff, 0xd9]);
    for (const cut of [2, 200]) {
      assert.throws(
        () => decodeImage(bytes.subarray(0, bytes.length - cut), `${name} row 1`),
        (e: unknown) => e instanceof UserError && new RegExp(`^${name} row 1: corrupt JPEG data \\(image file is truncated`).test(e.message),
      );
    }
  }
});

test('unsupported JPEG kinds are UserErrors naming the image', () => {
  const bytes = Uint8Array.from(readFileSync(join(dir, 'baseline-420.jpg')));
  let p = 2;
  while (bytes[p + 1] !== 0xc0) p += 2 + ((bytes[p + 2]! << 8) | bytes[p + 3]!);
  const arithmetic = bytes.slice();
  arithmetic[p + 1] = 0xc9;
  assert.throws(() => decodeImage(arithmetic, 'row 9'), (e: unknown) => e instanceof UserError && /^row 9: arithmetic-coded JPEG/.test(e.message));
  const twelveBit = bytes.slice();
  twelveBit[p + 4] = 12;
  assert.throws(() => decodeImage(twelveBit, 'row 10'), (e: unknown) => e instanceof UserError && /^row 10: 12-bit JPEG samples/.test(e.message));
  const cut = bytes.subarray(0, p + 6);
  assert.throws(() => decodeImage(cut, 'row 11'), (e: unknown) => e instanceof UserError && /^row 11: corrupt JPEG data/.test(e.message));
});
