/** Model config.json and preprocessor_config.json: JSON → typed CLIP configs and the image processor. */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigJson } from '../../src/modelpool/base-pool.js';
import { readClipConfig, clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { CLIPImageProcessor } from '../../src/models/clip/image-processor.js';
import type { DecodedImage } from '../../src/image/decode.js';
import type { FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';
import { freshDir, repoText } from '../seeds.js';

const NUMBERS = ['1e308', '-1e308', '0', '-1', '1.5', '2147483648', '9007199254740993', 'NaN', 'Infinity', '-0', '1e-320', '224', '32', '"224"', 'null', 'true', '[]', '{}', '[224, 224]'];
const TOKENS = [...NUMBERS, '"__proto__"', '"constructor"', '{', '}', '[', ']', ',', ':', '"', '"shortest_edge"', '"height"', '"width"', '"crop_size"', '"size"', '"image_size"', '"patch_size"', '"hidden_size"'];

/** A JSON object whose numeric fields are replaced by boundary values. */
function numericVariants(seedText: string): fc.Arbitrary<string> {
  const keys = [...seedText.matchAll(/"(\w+)":\s*(-?[\d.e+-]+)/g)].map((m) => m[1]!);
  return fc.array(fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...NUMBERS)), { minLength: 1, maxLength: 3 }).map((edits) => {
    let t = seedText;
    for (const [k, v] of edits) t = t.replace(new RegExp(`("${k}":\\s*)(-?[\\d.e+-]+)`), `$1${v}`);
    return t;
  });
}

export interface JsonConfigInput {
  kind: 'model' | 'preprocessor';
  text: string;
}

const IMAGE: DecodedImage = { width: 9, height: 7, channels: 3, mode: 'RGB', data: new Uint8Array(9 * 7 * 3).fill(128) };

export const modelConfigTarget: FuzzTarget<JsonConfigInput> = {
  name: 'model-config',
  description: "a model's config.json (readConfigJson + readClipConfig) or preprocessor_config.json (CLIPImageProcessor, then one image)",
  arbitrary: () => {
    const model = [repoText('demo/models/tiny-clip/config.json'), repoText('test/fixtures/fusion-bench-merges/models/ft1/config.json')];
    const pre = [repoText('demo/models/tiny-clip/preprocessor_config.json')];
    const text = (seeds: string[]) => fc.oneof(mutatedText(seeds, TOKENS), ...seeds.map(numericVariants));
    return fc.oneof(
      text(model).map((t) => ({ kind: 'model' as const, text: t })),
      text(pre).map((t) => ({ kind: 'preprocessor' as const, text: t })),
    );
  },
  run(inp) {
    const dir = freshDir();
    if (inp.kind === 'model') {
      writeFileSync(join(dir, 'config.json'), inp.text);
      const json = readConfigJson(dir, 'fuzz model');
      const clipConfig = readClipConfig(json, join(dir, 'config.json'));
      clipVisionConfigFrom(json, join(dir, 'config.json'));
      void clipConfig;
      return;
    }
    const path = join(dir, 'preprocessor_config.json');
    writeFileSync(path, inp.text);
    const p = CLIPImageProcessor.fromFile(path);
    const out = p.outputSize(IMAGE.height, IMAGE.width);
    // Preprocess only what fits a small buffer: the limits above are what this target checks.
    if (out.height * out.width <= 1 << 20) p.preprocessInto(IMAGE, new Float32Array(3 * out.height * out.width));
  },
  show: (i) => `${i.kind}: ${JSON.stringify(clip(i.text, 400))}`,
};
