/** Execution providers: FUSION_BENCH_ORT_PROVIDERS, and a provider that cannot start is a clear error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ort } from '../../src/onnx/runtime.js';
import { UserError } from '../../src/errors.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipVisionSession, defaultExecutionProviders } from '../../src/models/clip/session.js';

test('FUSION_BENCH_ORT_PROVIDERS names the providers; the CPU otherwise', () => {
  assert.deepEqual(defaultExecutionProviders({}), ['cpu']);
  assert.deepEqual(defaultExecutionProviders({ FUSION_BENCH_ORT_PROVIDERS: ' cuda , cpu ' }), ['cuda', 'cpu']);
});

test('an unknown provider, in FUSION_BENCH_ORT_PROVIDERS or given to a session, is one UserError listing the known ones', async () => {
  const known = /unknown onnxruntime execution provider 'bogus' \(expected a comma-separated list of cpu, .*cuda.*\)/;
  assert.throws(() => defaultExecutionProviders({ FUSION_BENCH_ORT_PROVIDERS: 'bogus,cpu' }), (e: unknown) => e instanceof UserError && /^FUSION_BENCH_ORT_PROVIDERS=bogus,cpu: /.test(e.message) && known.test(e.message));
  const cfg = clipVisionConfigFrom({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, image_size: 16, patch_size: 8 });
  await assert.rejects(ClipVisionSession.create(cfg, randomClipStateDict({ vision: cfg }, 1), { executionProviders: ['bogus'] }), (e: unknown) => e instanceof UserError && known.test(e.message));
});

test('a CUDA provider that onnxruntime-node cannot load is a UserError that says how to get it', async (t) => {
  const cfg = clipVisionConfigFrom({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, image_size: 16, patch_size: 8 });
  const sd = randomClipStateDict({ vision: cfg }, 1);
  let session: ClipVisionSession | null = null;
  try {
    session = await ClipVisionSession.create(cfg, sd, { executionProviders: ['cuda'] });
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    assert.match((e as Error).message, /--onnxruntime-node-install=cuda12/);
    return;
  }
  // a machine whose onnxruntime-node has its CUDA libraries: the session runs
  t.diagnostic(`CUDA provider available here (${ort.listSupportedBackends().map((b) => b.name).join(', ')})`);
  session.dispose();
});
