/**
 * Every fuzz target (fuzz/targets) for a fixed number of inputs from a fixed seed: the same inputs on
 * every run, so a failure here is reproducible with `npm run fuzz -- <target> --seed <SEED> --runs <N>`.
 * Longer, time-boxed runs are `npm run fuzz`'s job; nothing here is timed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTarget } from '../../fuzz/harness.js';
import { TARGETS } from '../../fuzz/targets/index.js';

const SEED = 20260301;
const RUNS = 40;

for (const target of TARGETS) {
  // The timeout only stops a hang from blocking the suite; no assertion depends on time.
  test(`fuzz target ${target.name}: ${RUNS} inputs from seed ${SEED} end in a result or one UserError`, { timeout: 300_000 }, async () => {
    const summary = await runTarget(target, { seed: SEED, numRuns: RUNS });
    assert.equal(summary.runs, RUNS);
    assert.equal(summary.ok + summary.userErrors, RUNS);
  });
}

test('every parser of user input listed in fuzz/README.md has a target', () => {
  assert.deepEqual(
    TARGETS.map((t) => t.name),
    ['overrides', 'yaml', 'interpolation', 'defaults', 'safetensors', 'model-config', 'tokenizer', 'dataset-card', 'parquet', 'png', 'jpeg', 'hub-cache', 'merging-weights', 'slurm-output', 'method-config'],
  );
});
