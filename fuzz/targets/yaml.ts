/** YAML config files: bytes → UTF-8 → OmegaConf's loader, then the YAML writer on what was read. */
import fc from 'fast-check';
import { relative } from 'node:path';
import { decodeYamlBytes, loadConfig } from '../../src/config/omegaconf/yaml.js';
import { toYaml } from '../../src/config/omegaconf/dump.js';
import { isDict } from '../../src/config/values.js';
import type { FuzzTarget } from '../harness.js';
import { mutatedBytes, showBytes } from '../mutate.js';
import { repoFile, repoFiles, repoRoot } from '../seeds.js';

const enc = new TextEncoder();

function seeds(): Uint8Array[] {
  const files = [...repoFiles('config', '.yaml'), ...repoFiles('hydra-conf', '.yaml')];
  return files.map((f) => repoFile(relative(repoRoot, f)));
}

/** Deep nesting, alias chains, odd bytes: what the fixtures do not contain. */
export const hostileYaml: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 6000 }).map((n) => 'a:\n' + '- '.repeat(n) + '1\n'),
  fc.integer({ min: 1, max: 3000 }).map((n) => Array.from({ length: n }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n'),
  fc.integer({ min: 1, max: 6000 }).map((n) => 'a: ' + '['.repeat(n) + ']'.repeat(n) + '\n'),
  fc.integer({ min: 1, max: 6000 }).map((n) => 'a: ' + '{a: '.repeat(n) + '1' + '}'.repeat(n) + '\n'),
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 })).map(([levels, width]) => {
    let s = `l0: &l0 [${Array(width).fill('x').join(',')}]\n`;
    for (let i = 1; i < levels; i++) s += `l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(',')}]\n`;
    return s;
  }),
  fc.constantFrom('a: &a [*a]\n', 'a: *b\n', '__proto__: {x: 1}\nconstructor: 2\n', '<<: *x\n', 'a: !!python/object:os.system x\n', '? [a]\n: 1\n'),
);

export const yamlTarget: FuzzTarget<Uint8Array> = {
  name: 'yaml',
  description: 'a YAML config file: decodeYamlBytes + loadConfig (OmegaConf.load), then toYaml of the result',
  arbitrary: () =>
    fc.oneof(
      { weight: 3, arbitrary: mutatedBytes(seeds()) },
      { weight: 1, arbitrary: hostileYaml.map((s) => enc.encode(s)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    ),
  run(bytes) {
    const text = decodeYamlBytes(bytes, 'fuzz.yaml');
    const cfg = loadConfig(text, 'fuzz.yaml');
    if (isDict(cfg) || Array.isArray(cfg)) toYaml(cfg);
  },
  show: showBytes,
};
