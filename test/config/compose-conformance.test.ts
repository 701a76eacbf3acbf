import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsShared, sharedDir, sharedPath } from '../helpers/paths.js';
import { assertCaseCount, assertSameConfig, listCases, parseErrorReport, readBulk, readCase } from '../helpers/conformance.js';
import { composeConfig } from '../../src/config/compose.js';
import { pythonErrorClass } from '../../src/config/hydra-errors.js';
import { ConfigFileCache } from '../../src/config/repository.js';
import { toYaml } from '../../src/config/omegaconf/dump.js';

/**
 * Every composing conformance case and every bulk line: the composed config (without the `hydra` node
 * unless the case keeps it) must equal Hydra 1.3.2's as data, and failing ones must fail with Hydra's
 * error class, message and causes.
 */
const root = sharedDir === null ? null : sharedPath('conformance', 'hydra');
if (root === null) test('compose conformance cases', needsShared(), () => {});

/** The parts of an error report our error carries: class and message, then each cause's. */
function errorReportOf(e: unknown, configDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null; depth++) {
    const suffix = depth === 0 ? 'error' : depth === 1 ? 'cause' : `cause`;
    const n = depth <= 1 ? '' : `_${depth}`;
    const err = cur as { message?: string; hydraMessage?: string; cause?: unknown };
    const msg = (err.hydraMessage ?? err.message ?? String(cur)).split(configDir).join('<CONFIG_DIR>');
    out[`${suffix}_class${n}`] = pythonErrorClass(cur);
    out[`${suffix}_message${n}`] = msg;
    cur = err.cause;
  }
  return out;
}

function checkError(run: () => unknown, reportText: string, configDir: string): void {
  const expected = parseErrorReport(reportText);
  let thrown: unknown = undefined;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `composition should fail with ${expected.error_class}`);
  const got = errorReportOf(thrown, configDir);
  for (const [k, v] of Object.entries(expected)) assert.equal(got[k], v, `${k} of ${String((thrown as Error).stack)}`);
}

const composeCases = root === null ? [] : listCases(`${root}/cases`).map(readCase).filter((c) => c.mode === 'compose');
if (root !== null) test('the compose cases are there', () => assertCaseCount('compose conformance', composeCases.length, 40));

for (const c of composeCases) {
  const compose = () =>
    composeConfig({ configPath: c.configPath, configName: c.configName, overrides: c.overrides, runMode: 'RUN' });
  test(`compose case ${c.id}: ${c.description}`, () => {
    const expectedError = c.files['expected_error.txt'];
    if (expectedError !== undefined) {
      checkError(compose, expectedError, c.configPath!);
      return;
    }
    const { config } = compose();
    if (!c.hydra) delete config.hydra;
    assertSameConfig(toYaml(config), c.files['expected.yaml']!, { configDir: c.configPath!, cwd: process.cwd() });
  });
}

if (root !== null) {
  const records = readBulk(`${root}/bulk/fusion_bench_all_options.public.jsonl`);
  const configDir = `${root}/fusion_bench`;
  // One cache for the whole corpus, as a sweep's jobs share one: results must not depend on it.
  const cache = new ConfigFileCache();
  test(`bulk corpus: ${records.length} fusion_bench compositions`, () => {
    for (const r of records) {
      const label = `${r.config_name} ${r.overrides.join(' ')}`;
      const compose = () => composeConfig({ configPath: configDir, configName: r.config_name, overrides: r.overrides, runMode: 'RUN', cache });
      if (r.error !== null) {
        checkError(compose, r.error, configDir);
        continue;
      }
      const { config } = compose();
      delete config.hydra;
      try {
        assertSameConfig(toYaml(config), r.unresolved!, { configDir, cwd: process.cwd() });
      } catch (e) {
        assert.fail(`${label}: ${(e as Error).message}`);
      }
    }
  });
}

if (root !== null) {
  test("every primary config of the shared trees composes or fails with one of Hydra's errors", async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const { isUserError } = await import('../../src/errors.js');
    const cache = new ConfigFileCache();
    for (const tree of ['semantics', 'hydra_defaults_list', 'fusion_bench']) {
      const dir = `${root}/${tree}`;
      const names: string[] = [];
      const walk = (rel: string): void => {
        for (const f of readdirSync(`${dir}/${rel}`)) {
          const p = rel === '' ? f : `${rel}/${f}`;
          if (statSync(`${dir}/${p}`).isDirectory()) {
            if (tree !== 'fusion_bench') walk(p);
          } else if (f.endsWith('.yaml')) names.push(p.slice(0, -'.yaml'.length));
        }
      };
      walk('');
      for (const name of names) {
        try {
          composeConfig({ configPath: dir, configName: name, overrides: [], runMode: 'RUN', cache });
        } catch (e) {
          assert.ok(isUserError(e), `${tree}/${name}: ${(e as Error).stack}`);
          assert.match(pythonErrorClass(e), /^(hydra\.errors\.\w+|ValueError)$/, `${tree}/${name}`);
        }
      }
    }
  });
}
