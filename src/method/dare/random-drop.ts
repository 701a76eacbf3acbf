/**
 * DARE's random drop with our own seeded generator. The stream is keyed by (seed, model name, tensor
 * name), so a tensor's mask is the same however often and in whatever order the lazy merge computes it.
 * Like `torch.rand_like(p) > ratio`: uniform float32 draws with 24 random bits, kept when above the
 * ratio (as float32), then optionally divided by (1 − ratio).
 */
import type { TensorInfo } from '../../tensor/types.js';
import { f32 } from '../f32.js';

function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A uniform stream whose xoshiro128** state randomDrop can advance in blocks. */
export interface UniformStream {
  (): number;
  /** a, b, c, d */
  readonly state: Int32Array;
}

/**
 * The next out.length outputs of xoshiro128** from `state` (advanced), each as its top 24 bits: the one
 * generator loop, its state in locals while it runs.
 */
function draws24(state: Int32Array, out: Uint32Array): void {
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  for (let i = 0; i < out.length; i++) {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    out[i] = r >>> 8;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}

/** xoshiro128** seeded from the key; returns uniform floats in [0, 1) with 24 bits. */
export function uniformStream(seed: number, modelName: string, tensorName: string): UniformStream {
  let h = fnv1a(tensorName, fnv1a('\u0000' + modelName, fnv1a(String(seed))));
  const state = new Int32Array(4);
  state[0] = h = splitmix32(h);
  state[1] = h = splitmix32(h);
  state[2] = h = splitmix32(h);
  state[3] = splitmix32(h);
  if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) state[0] = 1;
  const one = new Uint32Array(1);
  const next = () => {
    draws24(state, one);
    return one[0]! * 5.9604644775390625e-8; // 2^-24
  };
  return Object.assign(next, { state });
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Draws generated at a time: a block stays in the CPU cache while the drop reads it. */
const DRAW_BLOCK = 4096;

/**
 * Drops entries of `tv` in place with probability `ratio`, rescaling the rest by 1 / (1 − ratio). With a
 * UniformStream the draws come in blocks and the drop is a mask on the bits (dropped entries become +0,
 * as `next() > ratio ? x : 0` gives): the same draws and values as the plain loop below, without a call
 * and an unpredictable branch per entry.
 */
export function randomDrop(tv: Float32Array, ratio: number, rescale: boolean, next: (() => number) | UniformStream): void {
  if (ratio >= 1) {
    // Everything dropped; fusion_bench would then divide 0 by 0 (NaN) when rescaling, plainly unintended.
    tv.fill(0);
    return;
  }
  const r32 = f32(ratio);
  const keepScale = f32(1 - ratio);
  const state = (next as Partial<UniformStream>).state;
  if (state === undefined) {
    for (let i = 0; i < tv.length; i++) {
      const kept = next() > r32 ? tv[i]! : 0;
      tv[i] = rescale ? kept / keepScale : kept;
    }
    return;
  }
  // u = r24·2^-24 > r32  ⇔  r24 > r32·2^24 (both scalings exact)
  const above = r32 * 16777216;
  const bits = new Int32Array(tv.buffer, tv.byteOffset, tv.length);
  const block = new Uint32Array(Math.min(DRAW_BLOCK, bits.length));
  for (let s = 0; s < bits.length; s += block.length) {
    const r = block.subarray(0, Math.min(block.length, bits.length - s));
    draws24(state, r);
    for (let i = 0; i < r.length; i++) bits[s + i] = bits[s + i]! & -+(r[i]! > above);
  }
  if (rescale) for (let i = 0; i < tv.length; i++) tv[i] = tv[i]! / keepScale;
}

/**
 * Whether a tensor is an `nn.Linear` weight, for `only_on_linear_weights`: a 2-D `.weight` whose module
 * is not an embedding or a norm (a state dict does not say which module type owns a tensor; the rule
 * holds for CLIP, ViT, BERT and LLaMA checkpoints; GPT-2's Conv1D weights, which torch would not count
 * as nn.Linear, count here).
 */
export function isLinearWeight(name: string, info: TensorInfo): boolean {
  if (!name.endsWith('.weight') || info.shape.length !== 2) return false;
  const module = name.slice(0, -'.weight'.length);
  const last = module.slice(module.lastIndexOf('.') + 1);
  return !/embed|^wte$|^wpe$|^shared$|norm/i.test(last);
}
