/**
 * The merged model is lazy: `run` reads nothing (beyond the global passes a method needs), each merged
 * tensor reads each source tensor once, nothing is cached, and mismatched models fail before any read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.js';
import { SimpleAverageAlgorithm, TaskArithmeticAlgorithm, TiesMergingAlgorithm } from '../../src/method/index.js';
import { MemoryStateDict, makeTensor } from '../../src/tensor/memory-state-dict.js';
import { CountingStateDict, LAYOUT, randomArrays, toStateDict } from './helpers.js';

function countingModels(n: number, grid = false) {
  const theta0 = randomArrays(1, { grid });
  const sds = [theta0, ...Array.from({ length: n }, (_, k) => randomArrays(k + 2, { grid, around: theta0 }))].map((a) => new CountingStateDict(toStateDict(a)));
  const models: Record<string, { stateDict: CountingStateDict; config: null; source: string }> = {};
  sds.forEach((sd, k) => (models[k === 0 ? '_pretrained_' : `m${k}`] = { stateDict: sd, config: null, source: `m${k}` }));
  return { sds, models };
}

test('task arithmetic: run reads nothing; each merged tensor reads each source tensor once', async () => {
  const { sds, models } = countingModels(3);
  const merged = await new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }).run(models);
  assert.equal(sds.reduce((a, s) => a + s.total(), 0), 0);
  const names = merged.stateDict.names();
  assert.deepEqual([...names].sort(), Object.keys(LAYOUT).sort());
  const first = merged.stateDict.loadF32(names[0]!);
  for (const sd of sds) assert.deepEqual([...sd.loads.entries()], [[names[0], 1]]);
  for (const n of names.slice(1)) merged.stateDict.loadF32(n);
  for (const sd of sds) for (const n of names) assert.equal(sd.loads.get(n), 1, n);
  // Nothing is cached: asking again reads again and gives the same values.
  assert.deepEqual(merged.stateDict.loadF32(names[0]!), first);
  assert.equal(sds[0]!.loads.get(names[0]!), 2);
});

test('TIES: two histogram passes at run, then one read per merged tensor', async () => {
  const { sds, models } = countingModels(3, true);
  const merged = await new TiesMergingAlgorithm({ scaling_factor: 0.3, threshold: 20, remove_keys: [], merge_func: 'mean' }).run(models);
  for (const sd of sds) for (const n of Object.keys(LAYOUT)) assert.equal(sd.loads.get(n), 2, n);
  for (const sd of sds) for (const n of Object.keys(LAYOUT)) sd.loads.set(n, 0);
  for (const n of merged.stateDict.names()) merged.stateDict.loadF32(n);
  // One read per tensor, plus at most one more full pass if a zero elected sign needs the majority sign.
  for (const sd of sds) for (const n of Object.keys(LAYOUT)) assert.ok(sd.loads.get(n)! >= 1 && sd.loads.get(n)! <= 2, n);
});

test('closing the merged model closes the models the run opened, not models given as objects', async () => {
  const { sds, models } = countingModels(2);
  const merged = await new SimpleAverageAlgorithm({}).run(models);
  merged.stateDict.close?.();
  assert.ok(sds.every((s) => !s.closed));
  assert.throws(() => merged.stateDict.loadF32(merged.stateDict.names()[0]!), /after close/);
});

test('mismatched tensor names or shapes: a UserError before any tensor is read', async () => {
  const { sds, models } = countingModels(2);
  const short = Object.fromEntries(Object.entries(randomArrays(9)).slice(1));
  const missing = new CountingStateDict(toStateDict(short));
  await assert.rejects(new TaskArithmeticAlgorithm({ scaling_factor: 1 }).run({ ...models, bad: { stateDict: missing, config: null, source: 'bad' } }),
    (e: unknown) => isUserError(e) && /model 'bad'.*lacks 'enc\.layers\.0\.fc1\.weight'/.test((e as Error).message));
  const wrong = new CountingStateDict(new MemoryStateDict(Object.entries(LAYOUT).map(([n, s]) => {
    const shape = n === 'enc.layers.0.fc1.bias' ? [7] : s;
    return [n, makeTensor('F32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1)))] as const;
  })));
  await assert.rejects(new TaskArithmeticAlgorithm({ scaling_factor: 1 }).run({ ...models, bad: { stateDict: wrong, config: null, source: 'bad' } }),
    (e: unknown) => isUserError(e) && /'enc\.layers\.0\.fc1\.bias' has shape \[7\] in model 'bad' but \[6\]/.test((e as Error).message));
  assert.equal([...sds, missing, wrong].reduce((a, s) => a + s.total(), 0), 0);
});
