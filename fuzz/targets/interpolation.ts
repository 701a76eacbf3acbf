/** Interpolations and resolvers: `${...}` strings in a config, resolved as `--cfg job --resolve` does. */
import fc from 'fast-check';
import { resolveAll, resolveAt } from '../../src/config/omegaconf/resolve.js';
import { loadConfig } from '../../src/config/omegaconf/yaml.js';
import type { ConfigDict } from '../../src/config/values.js';
import { isUserError } from '../../src/errors.js';
import type { FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';

const SEEDS = [
  '${a}', '${.a}', '${..b}', 'x_${a}_${b}', '${oc.env:HOME,/tmp}', '${oc.select:a,1}', '${oc.decode:"[1, 2]"}', "${oc.decode:'{a: 1}'}",
  '${oc.create:{x: 1}}', '${oc.dict.keys:d}', '${oc.dict.values:d}', '${now:%Y}', '${hydra:runtime.cwd}', '${oc.deprecated:a}',
  '${l[0]}', '${d.x}', '\\${a}', '${a:b,c}', '${oc.select:${a},${b}}', '${${a}}', '${oc.decode:${s}}',
];
const TOKENS = ['${', '}', '${oc.decode:', '${oc.select:', '${oc.create:', '${oc.env:', '[', ']', '{', ':', ',', "'", '"', '\\', '.', '..', 'a', 'b', 'd', 'l', 's', '0', 'x', ' '];

export interface InterpolationInput {
  values: string[];
}

/** Chains that double, nestings that recurse: expansion and depth that edits rarely build. */
const structured: fc.Arbitrary<string[]> = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((n) => ['x', ...Array.from({ length: n }, (_, i) => `\${k${i}}\${k${i}}`)]),
  fc.integer({ min: 1, max: 3000 }).map((n) => ['${a:'.repeat(n) + '1' + '}'.repeat(n)]),
  fc.integer({ min: 1, max: 3000 }).map((n) => ['${oc.decode:' + '['.repeat(n) + ']'.repeat(n) + '}']),
  fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 99 })).map(([chain, nest]) =>
    Array.from({ length: chain }, (_, i) => '${oc.select:'.repeat(nest) + `\${k${i + 1}}` + '}'.repeat(nest)),
  ),
  fc.integer({ min: 1, max: 24 }).map((n) => ['[x, x]', ...Array.from({ length: n }, (_, i) => `\${oc.create:'[\${k${i}}, \${k${i}}]'}`)]),
);

function configOf(values: readonly string[]): ConfigDict {
  const cfg: ConfigDict = { a: 1, b: 'two', s: '[1, 2]', l: [10, 20], d: { x: 1, y: '${a}' }, hydra: { runtime: { cwd: '/tmp' } } };
  values.forEach((v, i) => (cfg[`k${i}`] = v));
  return cfg;
}

export const interpolationTarget: FuzzTarget<string[]> = {
  name: 'interpolation',
  description: 'config values with interpolations and resolvers: resolveAll (to_container(resolve=True)) and resolveAt',
  arbitrary: () => fc.oneof({ weight: 3, arbitrary: fc.array(mutatedText(SEEDS, TOKENS), { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: structured }),
  run(values) {
    const cfg = configOf(values);
    resolveAll(cfg, { env: { HOME: '/home/x' }, warn: () => {} });
    try {
      resolveAt(cfg, 'k0', { env: {}, warn: () => {} });
    } catch (e) {
      if (!isUserError(e)) throw e;
    }
    // The same strings inside a YAML document (oc.create parses YAML).
    loadConfig(`v: ${JSON.stringify(values[0] ?? '')}\n`, 'fuzz.yaml');
  },
  show: (v) => JSON.stringify(v.map((x) => clip(x, 120))),
};
