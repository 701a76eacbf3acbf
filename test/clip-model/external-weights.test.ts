/**
 * Sessions take their weights as external data (src/models/clip/session.ts), in memory or through a
 * scratch file: the outputs are bit for bit those of the same graph with the weights inside the
 * protobuf, sessions built one after another in a process do not see each other's weights, onnxruntime
 * owns a copy of the weights (a state dict in memory is handed over without copying, so changing it
 * afterwards must not reach the session), and the scratch file is gone once the session exists.
 */
import { after, test } from 'node:test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ort } from '../../src/onnx/runtime.js';
import { clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipVisionSession, createSession, sessionOptions } from '../../src/models/clip/session.js';
import { buildClipVisionGraph, VISION_EMBEDS, VISION_INPUT } from '../../src/models/clip/vision-graph.js';
import { MemoryStateDict } from '../../src/tensor/memory-state-dict.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import type { StateDict } from '../../src/tensor/types.js';
import { Profiler } from '../../src/util/profiler.js';

const tmp = mkdtempSync(join(tmpdir(), 'clip-ext-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const cfg = clipVisionConfigFrom({
  model_type: 'clip_vision_model', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 3, num_attention_heads: 4,
  image_size: 32, patch_size: 8, projection_dim: 16,
});

function pixels(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.37) * 1.7;
  return out;
}

async function embeds(sd: StateDict, px: Float32Array, weightsDir?: string | null): Promise<Float32Array> {
  const s = await ClipVisionSession.create(cfg, sd, { projection: sd.loadF32('visual_projection.weight'), threads: 1, weightsDir });
  try {
    return (await s.run(px, 2)).embeds!;
  } finally {
    await s.dispose();
  }
}

test('external-data weights give bit-identical outputs to weights inside the model, session after session', async () => {
  const a = randomClipStateDict({ vision: cfg, projectionDim: 16 }, 3) as MemoryStateDict;
  const b = randomClipStateDict({ vision: cfg, projectionDim: 16 }, 4) as MemoryStateDict;
  const px = pixels(2 * 3 * 32 * 32);
  const inline = await createSession(buildClipVisionGraph(cfg, a, { projection: a.loadF32('visual_projection.weight') }), sessionOptions({ threads: 1 }));
  let reference: Float32Array;
  try {
    const r = await inline.run({ [VISION_INPUT]: new ort.Tensor('float32', px, [2, 3, 32, 32]) });
    reference = r[VISION_EMBEDS]!.data as Float32Array;
  } finally {
    await inline.release();
  }
  const first = await embeds(a, px);
  const other = await embeds(b, px);
  const again = await embeds(a, px);
  assert.deepEqual(first, reference);
  assert.deepEqual(again, reference);
  assert.notDeepEqual(other, reference, 'other weights give other outputs');

  // The same weights from a checkpoint on disk go through a scratch file, removed after the session is made.
  const file = join(tmp, 'a.safetensors');
  writeSafetensorsSync(file, a);
  const scratch = join(tmp, 'cache', 'not-yet-made');
  const onDisk = openSafetensors(file);
  try {
    assert.deepEqual(await embeds(onDisk, px, scratch), reference);
    assert.deepEqual(readdirSync(scratch), [], 'the folder is made, and the scratch weights file deleted');
    assert.deepEqual(await embeds(onDisk, px, null), reference, 'weightsDir null: in memory');
  } finally {
    onDisk.close();
  }
});

test('a state dict changed after the session was created does not change its outputs (onnxruntime owns a copy)', async () => {
  const sd = randomClipStateDict({ vision: cfg, projectionDim: 16 }, 5) as MemoryStateDict;
  assert.ok(sd instanceof MemoryStateDict, 'the random checkpoint is in memory, so its arrays are handed over as they are');
  const px = pixels(2 * 3 * 32 * 32);
  const s = await ClipVisionSession.create(cfg, sd, { projection: sd.loadF32('visual_projection.weight'), threads: 1 });
  try {
    const before = (await s.run(px, 2)).embeds!.slice();
    for (const name of sd.names()) sd.get(name).data.fill(0.25);
    assert.deepEqual((await s.run(px, 2)).embeds!, before);
  } finally {
    await s.dispose();
  }
  assert.ok(s.timings.weightsS >= 0 && s.timings.createS > 0);
});

test('a session records its weight preparation and onnxruntime create as rows of the run\'s profile', async () => {
  const sd = randomClipStateDict({ vision: cfg, projectionDim: 16 }, 6);
  const profiler = new Profiler();
  const s = await ClipVisionSession.create(cfg, sd, { threads: 1, profiler });
  await s.dispose();
  const rows = new Map(profiler.rows().map((r) => [r.action, r]));
  assert.equal(rows.get('create onnxruntime session')?.calls, 1);
  assert.equal(rows.get('prepare tower weights')?.calls, 1);
  assert.equal(rows.get('create onnxruntime session')!.total_s, s.timings.createS);
  assert.match(profiler.format(), /create onnxruntime session/);
});
