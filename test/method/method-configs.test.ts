/**
 * Every method config under config/method/ (fusion_bench's files) instantiates through the registry:
 * its keys are exactly ones the method declares, with values its declarations accept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { instantiate } from '../../src/registry/instantiate.js';
import { runContext } from '../../src/run-context.js';
import { repoRoot } from '../helpers/paths.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : f.endsWith('.yaml') ? [p] : [];
  });
}

test('every config/method file instantiates its method', async () => {
  const root = join(repoRoot, 'config', 'method');
  const files = yamlFiles(root);
  assert.ok(files.length >= 20, `${files.length} method configs`);
  const r = createBuiltinRegistry();
  const ctx = runContext({ status: null });
  for (const f of files) {
    const cfg = parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
    const method = await instantiate(r, { ...cfg, _recursive_: false }, {}, relative(root, f), ctx);
    assert.equal(typeof (method as { run?: unknown }).run, 'function', relative(root, f));
  }
});
