/**
 * Adam, AdamW and CosineAnnealingLR against float64 sequences computed here from the published update
 * rules (Kingma & Ba with torch's eps placement, Loshchilov & Hutter's decoupled decay, SGDR's cosine).
 * The float32 implementation must follow them to float32 noise over many steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, AdamW, CosineAnnealingLR } from '../../src/grad/optim.js';
import { mulberry32 } from '../../src/util/prng.js';
import { assertClose } from '../clip-model/close.js';

/** Gradients per step: one tensor of ordinary scale, one so small that eps dominates the denominator. */
function gradients(steps: number): { a: number[][]; tiny: number[][] } {
  const next = mulberry32(9);
  const a: number[][] = [];
  const tiny: number[][] = [];
  for (let t = 0; t < steps; t++) {
    a.push(Array.from({ length: 5 }, () => (next() * 2 - 1) * 0.3));
    tiny.push(Array.from({ length: 3 }, () => (next() * 2 - 1) * 3e-9));
  }
  return { a, tiny };
}

interface RefOpts { lr: (t: number) => number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean; epsInsideSqrt?: boolean }

/** θ_t = θ_{t−1} − lr_t · m̂_t / (√v̂_t + eps) in float64, with L2 (Adam) or decoupled (AdamW) decay. */
function reference(p0: number[], grads: number[][], o: RefOpts): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((gs, i) => {
    const t = i + 1;
    const lr = o.lr(t);
    for (let j = 0; j < p.length; j++) {
      let g = gs[j]!;
      if (o.decoupled) p[j] = p[j]! * (1 - lr * o.wd);
      else g += o.wd * p[j]!;
      m[j] = o.b1 * m[j]! + (1 - o.b1) * g;
      v[j] = o.b2 * v[j]! + (1 - o.b2) * g * g;
      const mh = m[j]! / (1 - o.b1 ** t);
      const vh = v[j]! / (1 - o.b2 ** t);
      p[j] = p[j]! - lr * mh / (o.epsInsideSqrt ? Math.sqrt(vh + o.eps) : Math.sqrt(vh) + o.eps);
    }
  });
  return p;
}

function run(opt: Adam, p0: { a: number[]; tiny: number[] }, g: { a: number[][]; tiny: number[][] }, sched?: CosineAnnealingLR): Map<string, Float32Array> {
  const params = new Map([['a', Float32Array.from(p0.a)], ['tiny', Float32Array.from(p0.tiny)]]);
  for (let t = 0; t < g.a.length; t++) {
    if (sched) opt.lr = sched.lr;
    opt.step(params, new Map([['a', Float32Array.from(g.a[t]!)], ['tiny', Float32Array.from(g.tiny[t]!)]]));
    sched?.step();
  }
  return params;
}

const P0 = { a: [0.5, -1.25, 2, 0.01, -0.3], tiny: [0.1, -0.2, 0.3] };
const STEPS = 25;

for (const decoupled of [false, true]) {
  for (const wd of [0, 0.1]) {
    test(`${decoupled ? 'AdamW' : 'Adam'} (weight_decay ${wd}) = the float64 update rule over ${STEPS} steps, eps placed as torch does`, () => {
      const g = gradients(STEPS);
      const opts = { lr: 0.01, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: wd };
      const got = run(decoupled ? new AdamW(opts) : new Adam(opts), P0, g);
      const ref = (p: number[], gs: number[][], epsInsideSqrt = false) => reference(p, gs, { lr: () => 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd, decoupled, epsInsideSqrt });
      assertClose(got.get('a')!, ref(P0.a, g.a), 'ordinary gradients', 2e-6, 1e-7);
      assertClose(got.get('tiny')!, ref(P0.tiny, g.tiny), 'eps-dominated gradients', 2e-6, 1e-7);
      // The tiny-gradient tensor tells eps placements apart: eps inside the square root moves it far less.
      const inside = ref(P0.tiny, g.tiny, true);
      const moved = (q: ArrayLike<number>) => Math.max(...P0.tiny.map((p, j) => Math.abs(q[j]! - p)));
      assert.ok(moved(got.get('tiny')!) > 100 * moved(inside) || wd > 0, `eps placement: moved ${moved(got.get('tiny')!)} vs ${moved(inside)} with eps inside the root`);
    });
  }
}

test('Adam with L2 and AdamW with decoupled decay differ (same weight_decay)', () => {
  const g = gradients(STEPS);
  const a = run(new Adam({ lr: 0.01, weightDecay: 0.1 }), P0, g).get('a')!;
  const w = run(new AdamW({ lr: 0.01, weightDecay: 0.1 }), P0, g).get('a')!;
  assert.ok(a.some((x, i) => Math.abs(x - w[i]!) > 1e-4), 'Adam and AdamW gave the same parameters');
});

test('AdamW defaults to weight_decay 0.01 and Adam to 0, as torch', () => {
  assert.equal(new AdamW({ lr: 1 }).weightDecay, 0.01);
  assert.equal(new Adam({ lr: 1 }).weightDecay, 0);
  assert.throws(() => new Adam({ lr: -1 }), /Invalid learning rate/);
});

test('CosineAnnealingLR (recursive, as torch steps it) = η_min + (η_0 − η_min)(1 + cos(π t / T))/2 over three periods', () => {
  for (const [base, T, etaMin] of [[0.1, 7, 0], [1e-5, 4, 1e-6], [3, 1, 0.5]] as const) {
    const s = new CosineAnnealingLR(base, T, etaMin);
    assert.equal(s.lr, base);
    for (let t = 1; t <= 3 * T; t++) {
      const got = s.step();
      const closed = etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * t / T)) / 2;
      assert.ok(Math.abs(got - closed) <= 1e-12 * base, `T_max ${T}, step ${t}: ${got} vs ${closed}`);
    }
  }
});

test('Adam driven by CosineAnnealingLR = the float64 rule with the cosine rate of each step', () => {
  const g = gradients(STEPS);
  const T = 10;
  const got = run(new Adam({ lr: 0.05 }), P0, g, new CosineAnnealingLR(0.05, T));
  const lr = (t: number) => 0.05 * (1 + Math.cos(Math.PI * (t - 1) / T)) / 2;
  assertClose(got.get('a')!, reference(P0.a, g.a, { lr, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false }), 'parameters', 2e-6, 1e-7);
});
