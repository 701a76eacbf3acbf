/**
 * Whole text-tower gradients (token and position embeddings through Gather/Slice, the causal and padding
 * masks, EOS pooling through GatherND) against finite differences, tensor by tensor along random
 * directions, on seeded random towers for both pooling rules; the forward half against the inference
 * session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ort } from '../../src/onnx/runtime.js';
import { addGradients } from '../../src/grad/autodiff.js';
import { type ClipActivation, clipTextConfigFrom } from '../../src/models/clip/config.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipTextSession } from '../../src/models/clip/session.js';
import { addClipTextTower, TEXT_ATTENTION_MASK, TEXT_INPUT_IDS } from '../../src/models/clip/text-graph.js';
import { WeightReader } from '../../src/models/clip/weights.js';
import { GraphBuilder } from '../../src/onnx/graph-builder.js';
import { DataType } from '../../src/onnx/model.js';
import { mulberry32 } from '../../src/util/prng.js';
import { assertClose } from '../clip-model/close.js';

const cfgOf = (act: ClipActivation, eos: number) => clipTextConfigFrom({
  model_type: 'clip_text_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4,
  vocab_size: 50, max_position_embeddings: 12, hidden_act: act, eos_token_id: eos, projection_dim: 8,
});

for (const [act, eos] of [['quick_gelu', 2], ['gelu', 49]] as const) {
  test(`text tower (${act}, eos_token_id ${eos}): gradients of every tensor = finite differences; forward = inference session`, async () => {
    const cfg = cfgOf(act, eos);
    const sd = randomClipStateDict({ text: cfg, projectionDim: 8 }, 17);
    const [batch, seq] = [3, 7];
    // bodies of different lengths, EOS 49 (the largest id) then padding with 0 and a zero attention mask
    const ids = [48, 5, 9, 49, 0, 0, 0, 48, 7, 7, 7, 3, 11, 49, 48, 49, 0, 0, 0, 0, 0];
    const mask = ids.map((_, i) => (i % seq <= [3, 6, 1][Math.floor(i / seq)]! ? 1 : 0));
    const g = new GraphBuilder('text_grad');
    const w = new WeightReader(sd, 'random text tower', true);
    const t = addClipTextTower(g, w, cfg, { attention: 'plain', projection: sd.loadF32('text_projection.weight') });
    const next = mulberry32(4);
    const r = Array.from({ length: batch * 8 }, () => next() * 2 - 1);
    const loss = g.node('ReduceSum', [g.node('Mul', [t.embeds!, g.floats('r', r, [batch, 8])])], { keepdims: 0 });
    const keys = [...w.inputKeys().keys()];
    const { grads } = addGradients(g, { loss, wrt: keys, inputDims: { [TEXT_INPUT_IDS]: [batch, seq], [TEXT_ATTENTION_MASK]: [batch, seq] } });
    g.output(loss, 'loss', DataType.FLOAT, []);
    g.output(t.embeds!, 'embeds', DataType.FLOAT, [batch, 8]);
    keys.forEach((k, i) => g.output(grads.get(k)!, `g${i}`, DataType.FLOAT, w.inputKeys().get(k)!));
    const session = await ort.InferenceSession.create(g.build(), { intraOpNumThreads: 1 });
    const ref = await ClipTextSession.create(cfg, sd, { projection: sd.loadF32('text_projection.weight'), threads: 1 });
    try {
      const params = new Map(keys.map((k) => [k, sd.loadF32(k)]));
      const feeds = (override?: [string, Float32Array]) => {
        const f: Record<string, ort.Tensor> = {
          [TEXT_INPUT_IDS]: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [batch, seq]),
          [TEXT_ATTENTION_MASK]: new ort.Tensor('int64', BigInt64Array.from(mask, BigInt), [batch, seq]),
        };
        for (const [k, v] of params) f[k] = new ort.Tensor('float32', override && override[0] === k ? override[1] : v, [...w.inputKeys().get(k)!]);
        return f;
      };
      const out = await session.run(feeds());
      assertClose(out.embeds!.data as Float32Array, (await ref.run(ids, batch, mask)).embeds!, 'text embeds', 1e-4, 1e-5);
      const h = 1e-2;
      let seed = 50;
      for (const [i, k] of keys.entries()) {
        const value = params.get(k)!;
        const rms = Math.max(0.02, Math.sqrt(value.reduce((a, x) => a + x * x, 0) / value.length));
        const nx = mulberry32(seed++);
        const v = Float32Array.from(value, () => (nx() * 2 - 1) * rms);
        const gk = out[`g${i}`]!.data as Float32Array;
        let analytic = 0;
        let scale = 0;
        for (let e = 0; e < v.length; e++) {
          analytic += gk[e]! * v[e]!;
          scale += Math.abs(gk[e]! * v[e]!);
        }
        const at = async (sign: number) => Number((await session.run(feeds([k, Float32Array.from(value, (x, e) => x + sign * h * v[e]!)]), ['loss'])).loss!.data[0]);
        const fd = ((await at(1)) - (await at(-1))) / (2 * h);
        assert.ok(Math.abs(fd - analytic) <= 2e-3 * (scale + 1) + 1e-5, `d/d ${k}: analytic ${analytic}, finite differences ${fd}`);
      }
    } finally {
      await session.release();
      await ref.dispose();
    }
  });
}
