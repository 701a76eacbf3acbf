import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIPTokenizer, batchToInt64, readMergesTxt, readVocabJson } from '../../src/models/clip/tokenizer.js';
import { bpeWord, byteEncode, bytesToUnicode, mergeRanks } from '../../src/models/clip/bpe.js';
import { basicClean } from '../../src/models/clip/text-cleanup.js';
import { UserError } from '../../src/errors.js';
import { needsShared, sharedPath } from '../helpers/paths.js';

interface GoldenRecord {
  text: string;
  hf_ids: number[];
  tokens: string[];
  input_ids: number[];
  attention_mask: number[];
}

let goldenTokenizer: CLIPTokenizer | null = null;
/** The shared CLIP vocabulary, loaded once for the tests that use it. */
function clipTokenizer(): CLIPTokenizer {
  goldenTokenizer ??= CLIPTokenizer.fromDir(sharedPath('fixtures', 'clip', 'tokenizer'));
  return goldenTokenizer;
}

test('bytesToUnicode is a bijection onto printable code points', () => {
  const t = bytesToUnicode();
  assert.equal(new Set(t).size, 256);
  assert.equal(t[0x41], 'A');
  assert.equal(t[0x20], String.fromCharCode(256 + 32)); // space is byte 32, the 33rd unprintable byte
  assert.equal(byteEncode('é'), 'Ã©');
});

test('bpeWord merges lowest rank first and marks the word end', () => {
  const ranks = mergeRanks([
    ['l', 'o'],
    ['lo', 'w</w>'],
    ['e', 'r</w>'],
  ]);
  assert.deepEqual(bpeWord('low', ranks), ['low</w>']);
  assert.deepEqual(bpeWord('lower', ranks), ['lo', 'w', 'er</w>']);
  assert.deepEqual(bpeWord('x', ranks), ['x</w>']);
});

test('basicClean: controls dropped, whitespace collapsed, CJK spaced, NFC, lower case', () => {
  assert.equal(basicClean('  A\u0000b\tC\u200b\n\u00a0d  '), 'ab c d');
  assert.equal(basicClean('猫の'), '猫 の');
  assert.equal(basicClean('e\u0301'), 'é');
  assert.equal(basicClean('&AMP;'), '&amp;');
});

test('a small vocabulary: specials, cleanup, BPE merges, truncation and padding', () => {
  const syms = ['a', 'b', 'c', ',', 'a</w>', 'b</w>', 'c</w>', ',</w>', 'ab', 'abc</w>', '<|startoftext|>', '<|endoftext|>'];
  const vocab = new Map(syms.map((s, i) => [s, i]));
  const tok = new CLIPTokenizer({ vocab, merges: [['a', 'b'], ['ab', 'c</w>']], modelMaxLength: 6 });
  assert.deepEqual(tok.tokenize('ABC  a,b'), ['abc</w>', 'a</w>', ',</w>', 'b</w>']);
  assert.deepEqual(tok.tokenize('abab'), ['ab', 'a', 'b</w>']);
  // A literal special token is kept whole, even glued to a word; an unknown symbol maps to unk (= eos here).
  assert.deepEqual(tok.tokenize('c<|endoftext|>c'), ['c</w>', '<|endoftext|>', 'c</w>']);
  assert.deepEqual(tok.encode('d'), [10, 11, 11]);
  const out = tok.encodeBatch(['a b c a b', 'c'], { padding: 'max_length' });
  assert.deepEqual(out.inputIds, [
    [10, 4, 5, 6, 4, 11],
    [10, 6, 11, 11, 11, 11],
  ]);
  assert.deepEqual(out.attentionMask[1], [1, 1, 1, 0, 0, 0]);
  const longest = tok.encodeBatch(['a b c a b', 'c'], { padding: 'longest' });
  assert.equal(longest.inputIds[0]!.length, 7, 'no truncation unless asked');
});

test('tokenizer matches transformers on every golden string', needsShared(), () => {
  const tok = clipTokenizer();
  const golden = JSON.parse(readFileSync(sharedPath('fixtures', 'clip', 'tokenizer', 'golden_tokens.json'), 'utf8')) as {
    records: GoldenRecord[];
    bos_id: number;
    eos_id: number;
    max_length: number;
  };
  assert.equal(golden.records.length, 27);
  assert.equal(tok.bosTokenId, golden.bos_id);
  assert.equal(tok.eosTokenId, golden.eos_id);
  for (const r of golden.records) {
    // The golden token strings are those of the 77-truncated ids.
    const body = tok.tokenize(r.text).slice(0, golden.max_length - 2);
    const tokens = ['<|startoftext|>', ...body, '<|endoftext|>'];
    assert.deepEqual(tokens, r.tokens, `tokens of ${JSON.stringify(r.text)}`);
    assert.deepEqual(tok.encode(r.text), r.hf_ids, `ids of ${JSON.stringify(r.text)}`);
  }
  const batch = tok.encodeBatch(
    golden.records.map((r) => r.text),
    { padding: 'max_length', maxLength: golden.max_length, truncation: true },
  );
  golden.records.forEach((r, i) => {
    assert.deepEqual(batch.inputIds[i], r.input_ids, `padded ids of ${JSON.stringify(r.text)}`);
    assert.deepEqual(batch.attentionMask[i], r.attention_mask, `mask of ${JSON.stringify(r.text)}`);
  });
  // The long caption is the one that is truncated: BOS kept, EOS at 76.
  const long = batch.inputIds.find((_, i) => golden.records[i]!.hf_ids.length > 77)!;
  assert.equal(long[0], 49406);
  assert.equal(long[76], 49407);
});

test('padding to the longest matches fusion_bench batches', needsShared(), () => {
  const tok = CLIPTokenizer.fromDir(sharedPath('fixtures', 'clip', 'models', 'tiny-clip-bpe'));
  const golden = JSON.parse(readFileSync(sharedPath('fixtures', 'clip', 'tokenizer', 'golden_tokens_padded_longest.json'), 'utf8')) as {
    batches: { texts: string[]; input_ids: number[][]; attention_mask: number[][] }[];
  };
  assert.ok(golden.batches.length > 0);
  for (const b of golden.batches) {
    const out = tok.encodeBatch(b.texts, { padding: 'longest' });
    assert.deepEqual(out.inputIds, b.input_ids);
    assert.deepEqual(out.attentionMask, b.attention_mask);
  }
  // A mixed batch pads the shorter rows with 49407 and zeros in the mask.
  const mixed = tok.encodeBatch(['a cat', 'a photo of a dog'], { padding: 'longest' });
  assert.equal(mixed.inputIds[0]!.length, mixed.inputIds[1]!.length);
  assert.deepEqual(mixed.inputIds[0]!.slice(-2), [49407, 49407]);
  assert.deepEqual(mixed.attentionMask[0], [1, 1, 1, 1, 0, 0, 0]);
  const t = batchToInt64(mixed);
  assert.deepEqual(t.dims, [2, 7]);
  assert.equal(t.inputIds[0], 49406n);
});

test('tokenizer.json gives the same ids as vocab.json + merges.txt', needsShared(), () => {
  const dir = mkdtempSync(join(tmpdir(), 'clip-tok-'));
  try {
    const src = sharedPath('fixtures', 'clip', 'tokenizer');
    const vocab = Object.fromEntries(readVocabJson(join(src, 'vocab.json')));
    const merges = readMergesTxt(join(src, 'merges.txt')).map(([a, b]) => `${a} ${b}`);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges } }));
    const a = CLIPTokenizer.fromDir(dir);
    const b = clipTokenizer();
    for (const text of ['a photo of the number: "7".', 'Supercalifragilistic café 猫', '']) {
      assert.deepEqual(a.encode(text), b.encode(text));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory without tokenizer files is a UserError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clip-tok-'));
  try {
    assert.throws(() => CLIPTokenizer.fromDir(dir), (e: unknown) => e instanceof UserError && /vocab\.json/.test(e.message));
    writeFileSync(join(dir, 'tokenizer.json'), '{"model": {}}');
    assert.throws(() => CLIPTokenizer.fromDir(dir), UserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
