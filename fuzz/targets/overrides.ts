/** Command-line overrides: the override grammar, typed values, sweeps, and their use in composition. */
import fc from 'fast-check';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseOverride } from '../../src/config/overrides/index.js';
import { composeConfig } from '../../src/config/compose.js';
import type { FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';
import { scratchDir } from '../seeds.js';

const SEEDS = [
  'method=task_arithmetic', 'method.scaling_factor=0.3', '+x=1', '++x=[1,2]', '~x', 'x=null', "x='a b'", 'x="${y}"',
  'group=opt', '+group=opt', 'group@pkg=opt', '~group', 'x=range(0,10)', 'x=range(0,1,0.25)', 'x=choice(a,b)', 'x=a,b,c',
  'x=glob(*)', 'x=shuffle(1,2,3)', 'x=sort(3,1,2)', 'x=interval(0,1)', 'x=tag(t,choice(1,2))', 'x={a:1,b:[2,3]}', 'x=int(1.5)',
  'hydra.run.dir=out', 'x=1e3', 'x=-inf', 'x=nan', "x=str(1)", 'x=\\,a', 'a.b.c=1', 'a[0]=1',
];
const TOKENS = [
  '=', ',', '[', ']', '{', '}', '(', ')', ':', "'", '"', '\\', ' ', '$', '${', '@', '~', '+', '++', '.', '/', 'inf', 'nan', '-inf',
  '1e308', 'range(', 'choice(', 'glob(', 'shuffle(', 'sort(', 'interval(', 'tag(', 'int(', 'float(', 'str(', 'bool(', 'group', 'x',
  '', '__proto__', 'constructor', '\u0000', '\n', 'é',
];

function deep(n: number, open: string, close: string, middle = '1'): string {
  return open.repeat(n) + middle + close.repeat(n);
}

/** Nesting and size that random edits rarely reach. */
const structured: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 4000 }).map((n) => `+${Array.from({ length: n }, () => 'a').join('.')}=1`),
  fc.integer({ min: 1, max: 4000 }).map((n) => `x=${deep(n, '[', ']')}`),
  fc.integer({ min: 1, max: 4000 }).map((n) => `+x=${deep(n, '{a:', '}')}`),
  fc.integer({ min: 1, max: 4000 }).map((n) => `x=${deep(n, 'choice(', ')')}`),
  fc.tuple(fc.constantFrom('inf', '-inf', 'nan', '1e308', '0', '-1'), fc.constantFrom('inf', 'nan', '1e308', '10', '-1e308'), fc.constantFrom('1', '0', '-1', 'inf', '1e-300')).map(
    ([a, b, c]) => `x=range(${a},${b},${c})`,
  ),
);

let configDir: string | null = null;
/** A small config folder: a primary config and one group, so overrides reach the defaults list and merge. */
function configs(): string {
  if (configDir === null) {
    configDir = join(scratchDir(), 'override-configs');
    mkdirSync(join(configDir, 'group'), { recursive: true });
    writeFileSync(join(configDir, 'c.yaml'), 'defaults:\n  - group: opt\n  - _self_\nx: 1\na:\n  b:\n    c: 2\nl: [1, 2]\n');
    writeFileSync(join(configDir, 'group', 'opt.yaml'), 'y: 2\n');
    writeFileSync(join(configDir, 'group', 'other.yaml'), 'y: 3\n');
  }
  return configDir;
}

export const overridesTarget: FuzzTarget<string> = {
  name: 'overrides',
  description: 'one command-line override: parseOverride, its values and sweeps, then composeConfig with it',
  arbitrary: () => fc.oneof({ weight: 3, arbitrary: mutatedText(SEEDS, TOKENS) }, { weight: 1, arbitrary: structured }),
  run(input) {
    const o = parseOverride(input);
    if (o.isSweep()) {
      o.sweepValues(['opt', 'other']);
      return;
    }
    o.valueAsStr();
    o.convertedValue();
    composeConfig({ configPath: configs(), configName: 'c', overrides: [input], runMode: 'RUN', withHydra: false });
  },
  show: (s) => JSON.stringify(clip(s)),
};
