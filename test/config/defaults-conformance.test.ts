import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { assertCaseCount, listCases, readCase } from '../helpers/conformance.js';
import { createDefaultsList } from '../../src/config/defaults/build.js';
import { ConfigRepository } from '../../src/config/repository.js';
import { buildSearchPath } from '../../src/config/search-path.js';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import { parseOverrides } from '../../src/config/overrides/index.js';

/**
 * The defaults list and hydra.runtime.choices of every composing conformance case, against Hydra 1.3.2's
 * (`expected_defaults.yaml`, `expected_choices.yaml`, `warnings.txt`).
 */
const cases = sharedDir === null ? [] : listCases(sharedPath('conformance', 'hydra', 'cases')).map(readCase);
if (sharedDir === null) test('defaults-list conformance cases', needsShared(), () => {});
else test('the defaults-list cases are there', () => assertCaseCount('defaults-list conformance', cases.filter((x) => x.files['expected_defaults.yaml'] !== undefined).length, 25));

for (const c of cases.filter((x) => x.files['expected_defaults.yaml'] !== undefined)) {
  test(`defaults list of case ${c.id}: ${c.description}`, () => {
    const repo = new ConfigRepository(buildSearchPath(c.configPath), loadYaml);
    const r = createDefaultsList(repo, c.configName, parseOverrides(c.overrides), { withHydra: true });
    const got = r.defaults.map((d) => ({ config_path: d.configPath, package: d.package, is_self: d.isSelf, primary: d.primary, parent: d.parent }));
    assert.deepEqual(got, loadYaml(c.files['expected_defaults.yaml']!, 'expected_defaults.yaml'));
    const expectedChoices = loadYaml(c.files['expected_choices.yaml']!, 'expected_choices.yaml') as Record<string, unknown>;
    assert.deepEqual(Object.fromEntries([...r.choices].sort()), Object.fromEntries(Object.entries(expectedChoices).sort()));
    const warnings = c.files['warnings.txt'];
    assert.equal(r.warnings.length, warnings === undefined ? 0 : 1);
    if (warnings !== undefined) assert.ok(warnings.includes(`UserWarning: ${r.warnings[0]}`), warnings);
  });
}
