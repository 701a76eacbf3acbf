/** Tokenizer files: vocab.json + merges.txt + tokenizer_config.json + special_tokens_map.json, or tokenizer.json. */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIPTokenizer } from '../../src/models/clip/tokenizer.js';
import type { FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';
import { freshDir, repoText } from '../seeds.js';

const FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;
type TokFile = (typeof FILES)[number] | 'tokenizer.json';
const TOKENS = ['{', '}', '[', ']', '"', ':', ',', '\n', ' ', 'null', 'true', '1e308', '-1', '0.5', '77', '"<|endoftext|>"', '{"content": 1}', '"__proto__"', '"model_max_length"', '"added_tokens_decoder"', 'a b', '#version'];

export interface TokenizerInput {
  file: TokFile;
  text: string;
  texts: string[];
}

function original(file: TokFile): string {
  if (file !== 'tokenizer.json') return repoText('demo/models/tiny-clip', file);
  const vocab = JSON.parse(repoText('demo/models/tiny-clip/vocab.json')) as unknown;
  const merges = repoText('demo/models/tiny-clip/merges.txt').trim().split('\n').slice(1);
  return JSON.stringify({ model: { type: 'BPE', vocab, merges }, added_tokens: [{ content: '<|endoftext|>' }] });
}

export const tokenizerTarget: FuzzTarget<TokenizerInput> = {
  name: 'tokenizer',
  description: "a model folder's tokenizer files, one of them mutated: CLIPTokenizer.fromDir, then encodeBatch",
  arbitrary: () =>
    fc.oneof(
      ...(['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json'] as const).map((file) =>
        fc.record({
          file: fc.constant(file),
          text: mutatedText([original(file)], TOKENS),
          texts: fc.array(fc.oneof(fc.constantFrom('a photo of a cat.', '', '<|endoftext|>', 'ÄÖÜ 123 !!'), fc.string({ maxLength: 40 })), { maxLength: 3 }),
        }),
      ),
    ),
  run(inp) {
    const dir = freshDir();
    if (inp.file === 'tokenizer.json') writeFileSync(join(dir, 'tokenizer.json'), inp.text);
    else for (const f of FILES) writeFileSync(join(dir, f), f === inp.file ? inp.text : original(f));
    const tok = CLIPTokenizer.fromDir(dir);
    tok.encodeBatch(inp.texts, { padding: 'max_length' });
    tok.encodeBatch(inp.texts, { padding: 'longest' });
  },
  show: (i) => `${i.file}: ${JSON.stringify(clip(i.text, 300))} texts ${JSON.stringify(i.texts)}`,
};
