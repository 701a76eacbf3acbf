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

/** xoshiro128** seeded from the key; returns uniform floats in [0, 1) with 24 bits. */
export function uniformStream(seed: number, modelName: string, tensorName: string): () => number {
  let h = fnv1a(tensorName, fnv1a('\u0000' + modelName, fnv1a(String(seed))));
  let a = (h = splitmix32(h));
  let b = (h = splitmix32(h));
  let c = (h = splitmix32(h));
  let d = splitmix32(h);
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return (r >>> 8) * 5.9604644775390625e-8; // 2^-24
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Drops entries of `tv` in place with probability `ratio`, rescaling the rest by 1 / (1 − ratio). */
export function randomDrop(tv: Float32Array, ratio: number, rescale: boolean, next: () => number): void {
  if (ratio >= 1) {
    // Everything dropped; fusion_bench would then divide 0 by 0 (NaN) when rescaling, plainly unintended.
    tv.fill(0);
    return;
  }
  const r32 = f32(ratio);
  const keepScale = f32(1 - ratio);
  for (let i = 0; i < tv.length; i++) {
    const kept = next() > r32 ? tv[i]! : 0;
    tv[i] = rescale ? kept / keepScale : kept;
  }
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
