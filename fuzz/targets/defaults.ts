/** Defaults lists: a config folder of groups whose files include each other, composed as Hydra does. */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeConfig } from '../../src/config/compose.js';
import type { FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';
import { freshDir } from '../seeds.js';

const GROUPS = ['g1', 'g2', 'g1/sub'];
const OPTIONS = ['o1', 'o2', 'o3'];

/** One entry of a defaults list, as YAML. */
const entry: fc.Arbitrary<string> = fc.oneof(
  fc.constant('_self_'),
  fc.tuple(fc.constantFrom(...GROUPS), fc.constantFrom(...OPTIONS, 'null', '???', '${g1}', '${g2}', '[o1, o2]')).map(([g, o]) => `${g}: ${o}`),
  fc.tuple(fc.constantFrom('optional ', 'override ', ''), fc.constantFrom(...GROUPS), fc.constantFrom('', '@pkg', '@_here_', '@_global_', '@a.b'), fc.constantFrom(...OPTIONS)).map(
    ([kw, g, pkg, o]) => `${kw}${g}${pkg}: ${o}`,
  ),
  fc.constantFrom(...OPTIONS, '/g1/o1', 'primary', '../g1/o1', 'g1/o2'),
  fc.integer({ min: 1, max: 2000 }).map((n) => `g1: \${oc.select:${'${oc.select:'.repeat(n)}g2${'}'.repeat(n)}}`),
);

export interface DefaultsInput {
  /** File path (relative, without .yaml) → its defaults list entries. */
  files: Array<[string, string[]]>;
  /** Text edits applied to the primary config after it is written. */
  primaryText: string | null;
  override: string | null;
}

const fileName = fc.oneof(fc.constant('primary'), fc.tuple(fc.constantFrom(...GROUPS), fc.constantFrom(...OPTIONS)).map(([g, o]) => `${g}/${o}`));

function render(entries: readonly string[]): string {
  return `defaults:\n${entries.map((e) => `  - ${e}`).join('\n')}\nvalue: 1\n`;
}

const input: fc.Arbitrary<DefaultsInput> = fc.record({
  files: fc.array(fc.tuple(fileName, fc.array(entry, { maxLength: 4 })), { minLength: 1, maxLength: 8 }),
  primaryText: fc.option(mutatedText([render(['g1: o1', '_self_']), render(['g1: o1', 'g2: o2', '_self_'])], ['- ', '\n', ':', ' ', 'g1', 'o1', '${g1}', '@', 'optional', 'override', '_self_', '[', ']'])),
  override: fc.option(fc.constantFrom('g1=o2', '+g2=o1', '~g1', 'g1=null', 'g1=[o1,o2]', '+g1/sub=o3', 'g2@pkg=o1', '+=o1', 'value=2')),
});

export const defaultsTarget: FuzzTarget<DefaultsInput> = {
  name: 'defaults',
  description: 'a config folder whose defaults lists include groups, packages, interpolations and each other: composeConfig',
  arbitrary: () => input,
  run(inp) {
    const dir = freshDir();
    for (const g of GROUPS) for (const o of OPTIONS) {
      mkdirSync(join(dir, g), { recursive: true });
      writeFileSync(join(dir, g, `${o}.yaml`), `${o}: 1\n`);
    }
    writeFileSync(join(dir, 'primary.yaml'), render(['_self_']));
    for (const [f, entries] of inp.files) writeFileSync(join(dir, `${f}.yaml`), render(entries));
    if (inp.primaryText !== null) writeFileSync(join(dir, 'primary.yaml'), inp.primaryText);
    composeConfig({ configPath: dir, configName: 'primary', overrides: inp.override === null ? [] : [inp.override], runMode: 'RUN', withHydra: false, env: {} });
  },
  show: (i) => clip(JSON.stringify(i), 600),
};
