/**
 * LoRA (src/grad/lora.ts) in the vision gradient graph: peft's config semantics and target matching;
 * without dropout the LoRA tower computes exactly the tower with merged weights W + (alpha/r)·B·A (q's
 * head scaling and the CLS-only last layer included); a zero dropout mask removes the LoRA term and
 * nothing else; the factors' gradients equal central finite differences (with and without dropout);
 * merging in float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ClipVisionConfig, clipVisionConfigFrom } from '../../src/models/clip/config.js';
import { l2NormalizeRows } from '../../src/models/clip/head.js';
import { randomClipStateDict } from '../../src/models/clip/random-weights.js';
import { ClipVisionGradSession } from '../../src/grad/clip-vision-grad.js';
import { initLora, loraA, loraB, type LoraModule, loraModules, type LoraSpec, mergeLora, parseLoraConfig } from '../../src/grad/lora.js';
import { UserError } from '../../src/errors.js';
import { MemoryStateDict } from '../../src/tensor/memory-state-dict.js';
import type { StateDict } from '../../src/tensor/types.js';
import { mulberry32 } from '../../src/util/prng.js';
import { assertClose } from '../clip-model/close.js';

const cfg: ClipVisionConfig = clipVisionConfigFrom({
  model_type: 'clip_vision_model', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2,
  image_size: 16, patch_size: 4, hidden_act: 'quick_gelu', projection_dim: 8,
});
const ALL = ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2'];

function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** Factors with B ≠ 0 (fresh LoRA has B = 0, which would hide A's gradient and the LoRA term). */
function randomFactors(modules: readonly LoraModule[], spec: LoraSpec, seed: number): Map<string, Float32Array> {
  const p = initLora(modules, spec, seed);
  for (const m of modules) p.set(loraB(m), uniform(m.outDim * spec.r, seed++, -0.3, 0.3));
  return p;
}

function mergedDict(sd: StateDict, modules: readonly LoraModule[], spec: LoraSpec, p: ReadonlyMap<string, Float32Array>): StateDict {
  const adapted = new Map(modules.map((m) => [`${m.key}.weight`, m]));
  return new MemoryStateDict(sd.names().map((n) => {
    const m = adapted.get(n);
    const data = m ? mergeLora(sd.loadF32(n), p.get(loraA(m))!, p.get(loraB(m))!, m, spec.r, spec.scaling) : sd.loadF32(n);
    return [n, { dtype: 'F32', shape: sd.info(n).shape, data }] as const;
  }));
}

test('lora_config: peft semantics for target_modules, and bad values are UserErrors naming the key', () => {
  const list = parseLoraConfig({ r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], lora_dropout: 0.1, bias: 'none' }, 'cfg');
  assert.equal(list.scaling, 2);
  const names = loraModules(cfg, list, 'cfg').map((m) => m.peftName);
  assert.deepEqual(names, ['encoder.layers.0.self_attn.q_proj', 'encoder.layers.0.self_attn.v_proj', 'encoder.layers.1.self_attn.q_proj', 'encoder.layers.1.self_attn.v_proj']);
  // A string is a regular expression matched against the whole module name.
  const regex = parseLoraConfig({ r: 2, target_modules: 'encoder\\.layers\\.1\\.mlp\\.fc.' }, 'cfg');
  assert.deepEqual(loraModules(cfg, regex, 'cfg').map((m) => m.key), ['vision_model.encoder.layers.1.mlp.fc1', 'vision_model.encoder.layers.1.mlp.fc2']);
  assert.throws(() => loraModules(cfg, parseLoraConfig({ target_modules: 'fc' }, 'cfg'), 'cfg'), /match no Linear module/);
  assert.throws(() => loraModules(cfg, parseLoraConfig({ target_modules: ['patch_embedding'] }, 'cfg'), 'cfg'), /match no Linear module/);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ r: 0, target_modules: ['q_proj'] }, /'r' must be an integer ≥ 1/],
    [{ r: 2.5, target_modules: ['q_proj'] }, /'r' must be an integer/],
    [{ target_modules: ['q_proj'], lora_dropout: 1 }, /'lora_dropout' must be in \[0, 1\)/],
    [{ target_modules: ['q_proj'], bias: 'all' }, /bias 'all' is not supported/],
    [{ target_modules: ['q_proj'], use_dora: true }, /key 'use_dora' is not supported/],
    [{ target_modules: [] }, /'target_modules' must be a non-empty list/],
    [{ target_modules: '([' }, /not a valid regular expression/],
  ];
  for (const [c, re] of bad) assert.throws(() => parseLoraConfig(c, 'method.lora_config'), (e: unknown) => e instanceof UserError && re.test(e.message) && e.message.startsWith('method.lora_config'));
});

test("initLora: A ~ U(-1/√in, 1/√in) (torch's kaiming_uniform a=√5), B = 0, reproducible by seed", () => {
  const spec = parseLoraConfig({ r: 3, target_modules: ALL }, 'cfg');
  const modules = loraModules(cfg, spec, 'cfg');
  const p = initLora(modules, spec, 11);
  for (const m of modules) {
    const a = p.get(loraA(m))!;
    assert.equal(a.length, 3 * m.inDim);
    const bound = 1 / Math.sqrt(m.inDim);
    assert.ok(a.every((x) => Math.abs(x) <= bound), m.key);
    assert.ok(Math.max(...a.map(Math.abs)) > 0.8 * bound, `${m.key}: spread`);
    assert.ok(p.get(loraB(m))!.every((x) => x === 0));
  }
  assert.deepEqual(initLora(modules, spec, 11), p);
  assert.notDeepEqual(initLora(modules, spec, 12).get(loraA(modules[0]!)), p.get(loraA(modules[0]!)));
});

test('mergeLora = W + scaling·B·A in float64, rounded once', () => {
  const m: LoraModule = { key: 'x', peftName: 'x', inDim: 5, outDim: 3 };
  const r = 2;
  const w = uniform(15, 1);
  const a = uniform(r * 5, 2);
  const b = uniform(3 * r, 3);
  const got = mergeLora(w, a, b, m, r, 1.75);
  for (let o = 0; o < 3; o++) {
    for (let i = 0; i < 5; i++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += b[o * r + k]! * a[k * 5 + i]!;
      assert.equal(got[o * 5 + i], Math.fround(w[o * 5 + i]! + 1.75 * s));
    }
  }
});

async function loraSession(spec: LoraSpec, modules: readonly LoraModule[], sd: StateDict, batch: number): Promise<ClipVisionGradSession> {
  return ClipVisionGradSession.create(cfg, sd, { loss: 'cross_entropy', batch, projection: sd.loadF32('visual_projection.weight'), classes: 4, logitScale: Math.log(100), threads: 1, lora: { spec, modules } });
}

test('LoRA tower without dropout = the tower with merged weights; a zero dropout mask = the tower without LoRA', async () => {
  const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 3);
  const head = l2NormalizeRows(uniform(4 * 8, 7), 8);
  const pixels = uniform(3 * 3 * 16 * 16, 5, -2, 2);
  const labels = [1, 3, 0];
  const spec = parseLoraConfig({ r: 2, lora_alpha: 6, target_modules: ALL }, 'cfg');
  const modules = loraModules(cfg, spec, 'cfg');
  assert.equal(modules.length, 12);
  const p = randomFactors(modules, spec, 21);
  const plainRun = async (dict: StateDict) => {
    const s = await ClipVisionGradSession.create(cfg, dict, { loss: 'cross_entropy', batch: 3, projection: dict.loadF32('visual_projection.weight'), classes: 4, logitScale: Math.log(100), threads: 1 });
    try {
      return await s.run((k) => dict.loadF32(k), pixels, head, labels);
    } finally {
      await s.dispose();
    }
  };
  const s = await loraSession(spec, modules, sd, 3);
  try {
    assert.deepEqual([...s.trainable].sort(), modules.flatMap((m) => [loraA(m), loraB(m)]).sort(), 'only the factors are trained');
    const r = await s.run((k) => p.get(k) ?? sd.loadF32(k), pixels, head, labels);
    const merged = await plainRun(mergedDict(sd, modules, spec, p));
    assertClose(r.logits, merged.logits, 'logits', 1e-4, 1e-4);
    assertClose([r.loss], [merged.loss], 'loss', 1e-5, 1e-6);
    const plain = await plainRun(sd);
    assert.ok(Math.abs(r.loss - plain.loss) > 1e-3, 'the LoRA term changes the loss');

    // With dropout, the masks are inputs; all-zero masks leave only the frozen path.
    const dspec = parseLoraConfig({ r: 2, lora_alpha: 6, target_modules: ALL, lora_dropout: 0.5 }, 'cfg');
    const d = await loraSession(dspec, modules, sd, 3);
    try {
      const zero = d.lora!.masks(() => 0.25); // every draw below p: all dropped
      assert.ok([...zero.values()].every((x) => x.every((v) => v === 0)));
      const rz = await d.run((k) => zero.get(k) ?? p.get(k) ?? sd.loadF32(k), pixels, head, labels);
      assertClose(rz.logits, plain.logits, 'dropped logits', 1e-5, 1e-5);
      const one = d.lora!.masks(() => 0.75); // all kept, scaled by 1/(1-p) = 2: the LoRA term doubles
      assert.ok([...one.values()].every((x) => x.every((v) => v === 2)));
      const doubled = new Map(modules.map((m) => [loraB(m), p.get(loraB(m))!.map((x) => 2 * x)]));
      const r2 = await d.run((k) => one.get(k) ?? doubled.get(k) ?? p.get(k) ?? sd.loadF32(k), pixels, head, labels);
      const r4 = await d.run((k) => one.get(k) ?? p.get(k) ?? sd.loadF32(k), pixels, head, labels);
      const m2 = await plainRun(mergedDict(sd, modules, spec, new Map([...p, ...doubled])));
      assertClose(r4.logits, m2.logits, 'kept logits', 1e-4, 1e-4);
      assert.ok(Math.abs(r2.loss - r4.loss) > 1e-4);
    } finally {
      await d.dispose();
    }
  } finally {
    await s.dispose();
  }
});

for (const dropout of [0, 0.3]) {
  test(`LoRA factor gradients = central finite differences (lora_dropout ${dropout}, fixed masks)`, async () => {
    const sd = randomClipStateDict({ vision: cfg, projectionDim: 8 }, 4);
    const head = l2NormalizeRows(uniform(4 * 8, 8), 8);
    const pixels = uniform(3 * 3 * 16 * 16, 9, -2, 2);
    const labels = [2, 0, 3];
    const spec = parseLoraConfig({ r: 3, lora_alpha: 6, target_modules: ALL, lora_dropout: dropout }, 'cfg');
    const modules = loraModules(cfg, spec, 'cfg');
    const p = randomFactors(modules, spec, 31);
    const s = await loraSession(spec, modules, sd, 3);
    try {
      const masks = s.lora!.masks(mulberry32(5));
      assert.equal(masks.size, dropout > 0 ? modules.length : 0);
      const value = (over: ReadonlyMap<string, Float32Array>) => (k: string) => over.get(k) ?? masks.get(k) ?? p.get(k) ?? sd.loadF32(k);
      const base = await s.run(value(new Map()), pixels, head, labels);
      // float32 graph (Conv has no double kernel): h = 1e-2 along a random direction, as tower.test.ts.
      const h = 1e-2;
      let seed = 200;
      for (const k of s.trainable) {
        const x = p.get(k)!;
        const g = base.grads.get(k)!;
        const v = uniform(x.length, seed++, -0.3, 0.3);
        let analytic = 0;
        let scale = 0;
        for (let i = 0; i < v.length; i++) {
          analytic += g[i]! * v[i]!;
          scale += Math.abs(g[i]! * v[i]!);
        }
        const at = async (sign: number) => (await s.run(value(new Map([[k, x.map((xi, i) => xi + sign * h * v[i]!)]])), pixels, head, labels)).loss;
        const fd = ((await at(1)) - (await at(-1))) / (2 * h);
        assert.ok(Math.abs(fd - analytic) <= 2e-3 * (scale + Math.abs(base.loss)) + 1e-5, `d/d ${k}: analytic ${analytic}, finite differences ${fd}`);
        assert.ok(scale > 0, `${k} has a gradient`);
      }
    } finally {
      await s.dispose();
    }
  });
}
