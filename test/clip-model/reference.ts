/**
 * A direct float64 transcription of transformers' eager CLIP towers, slow and simple, used as the
 * independent reference for tests that run without ../shared (random weights, every activation).
 */
import type { StateDict } from '../../src/tensor/types.js';
import type { ClipActivation, ClipTextConfig, ClipVisionConfig } from '../../src/models/clip/config.js';

type Mat = Float64Array; // row-major [rows, cols]

const get = (sd: StateDict, name: string) => Float64Array.from(sd.loadF32(name));

function linear(x: Mat, rows: number, inDim: number, w: Mat, b: Mat | null, outDim: number): Mat {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = b ? b[o]! : 0;
      for (let k = 0; k < inDim; k++) s += x[r * inDim + k]! * w[o * inDim + k]!;
      y[r * outDim + o] = s;
    }
  }
  return y;
}

function layerNorm(x: Mat, rows: number, d: number, w: Mat, b: Mat, eps: number): Mat {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * inv * w[i]! + b[i]!;
  }
  return y;
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for 1e-5; use a series / continued fraction split.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

function act(kind: ClipActivation, x: number): number {
  switch (kind) {
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'relu':
      return Math.max(0, x);
  }
}

interface Tower {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  hiddenAct: ClipActivation;
  layerNormEps: number;
}

/** `allowed(b, i, j)`: may query i attend to key j in batch row b. */
/** Told the input of every linear layer: module name, [rows, dim] values. */
export type LinearTap = (module: string, x: Mat, dim: number) => void;

function encoder(sd: StateDict, prefix: string, c: Tower, h: Mat, batch: number, seq: number, allowed: (b: number, i: number, j: number) => boolean, tap?: LinearTap): Mat {
  const d = c.hiddenSize;
  const heads = c.numAttentionHeads;
  const hd = d / heads;
  const rows = batch * seq;
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `${prefix}.encoder.layers.${l}`;
    const x = layerNorm(h, rows, d, get(sd, `${p}.layer_norm1.weight`), get(sd, `${p}.layer_norm1.bias`), c.layerNormEps);
    const proj = (n: string, inp: Mat) => {
      tap?.(`${p}.self_attn.${n}`, inp, d);
      return linear(inp, rows, d, get(sd, `${p}.self_attn.${n}.weight`), get(sd, `${p}.self_attn.${n}.bias`), d);
    };
    const q = proj('q_proj', x);
    const k = proj('k_proj', x);
    const v = proj('v_proj', x);
    const ctx = new Float64Array(rows * d);
    const scores = new Float64Array(seq);
    for (let b = 0; b < batch; b++) {
      for (let hh = 0; hh < heads; hh++) {
        for (let i = 0; i < seq; i++) {
          let max = -Infinity;
          for (let j = 0; j < seq; j++) {
            if (!allowed(b, i, j)) {
              scores[j] = -Infinity;
              continue;
            }
            let s = 0;
            for (let t = 0; t < hd; t++) s += q[(b * seq + i) * d + hh * hd + t]! * k[(b * seq + j) * d + hh * hd + t]!;
            scores[j] = s / Math.sqrt(hd);
            max = Math.max(max, scores[j]!);
          }
          let z = 0;
          for (let j = 0; j < seq; j++) z += (scores[j] = Math.exp(scores[j]! - max));
          for (let t = 0; t < hd; t++) {
            let s = 0;
            for (let j = 0; j < seq; j++) s += (scores[j]! / z) * v[(b * seq + j) * d + hh * hd + t]!;
            ctx[(b * seq + i) * d + hh * hd + t] = s;
          }
        }
      }
    }
    const attn = proj('out_proj', ctx);
    for (let i = 0; i < h.length; i++) h[i] = h[i]! + attn[i]!;
    const y = layerNorm(h, rows, d, get(sd, `${p}.layer_norm2.weight`), get(sd, `${p}.layer_norm2.bias`), c.layerNormEps);
    const m = c.intermediateSize;
    tap?.(`${p}.mlp.fc1`, y, d);
    const f1 = linear(y, rows, d, get(sd, `${p}.mlp.fc1.weight`), get(sd, `${p}.mlp.fc1.bias`), m);
    for (let i = 0; i < f1.length; i++) f1[i] = act(c.hiddenAct, f1[i]!);
    tap?.(`${p}.mlp.fc2`, f1, m);
    const f2 = linear(f1, rows, m, get(sd, `${p}.mlp.fc2.weight`), get(sd, `${p}.mlp.fc2.bias`), d);
    for (let i = 0; i < h.length; i++) h[i] = h[i]! + f2[i]!;
  }
  return h;
}

export function referenceVision(cfg: ClipVisionConfig, sd: StateDict, pixels: Float32Array, batch: number, tap?: LinearTap): { pooled: Mat; hidden: Mat } {
  const d = cfg.hiddenSize;
  const p = cfg.patchSize;
  const g = cfg.imageSize / p;
  const seq = g * g + 1;
  const C = cfg.numChannels;
  const S = cfg.imageSize;
  const conv = get(sd, 'vision_model.embeddings.patch_embedding.weight');
  const cls = get(sd, 'vision_model.embeddings.class_embedding');
  const pos = get(sd, 'vision_model.embeddings.position_embedding.weight');
  const h = new Float64Array(batch * seq * d);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      for (let o = 0; o < d; o++) {
        let s = 0;
        if (t === 0) s = cls[o]!;
        else {
          const gy = Math.floor((t - 1) / g);
          const gx = (t - 1) % g;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < p; ky++) {
              for (let kx = 0; kx < p; kx++) {
                s += conv[((o * C + c) * p + ky) * p + kx]! * pixels[((b * C + c) * S + gy * p + ky) * S + gx * p + kx]!;
              }
            }
          }
        }
        h[(b * seq + t) * d + o] = s + pos[t * d + o]!;
      }
    }
  }
  const pre = layerNorm(h, batch * seq, d, get(sd, 'vision_model.pre_layrnorm.weight'), get(sd, 'vision_model.pre_layrnorm.bias'), cfg.layerNormEps);
  const hidden = encoder(sd, 'vision_model', cfg, pre, batch, seq, () => true, tap);
  const clsRows = new Float64Array(batch * d);
  for (let b = 0; b < batch; b++) clsRows.set(hidden.subarray(b * seq * d, b * seq * d + d), b * d);
  const pooled = layerNorm(clsRows, batch, d, get(sd, 'vision_model.post_layernorm.weight'), get(sd, 'vision_model.post_layernorm.bias'), cfg.layerNormEps);
  return { pooled, hidden };
}

export function referenceText(cfg: ClipTextConfig, sd: StateDict, ids: readonly number[], batch: number, mask?: readonly number[]): { pooled: Mat; hidden: Mat; positions: number[] } {
  const d = cfg.hiddenSize;
  const seq = ids.length / batch;
  const tok = get(sd, 'text_model.embeddings.token_embedding.weight');
  const pos = get(sd, 'text_model.embeddings.position_embedding.weight');
  const h = new Float64Array(batch * seq * d);
  for (let r = 0; r < batch * seq; r++) {
    for (let o = 0; o < d; o++) h[r * d + o] = tok[ids[r]! * d + o]! + pos[(r % seq) * d + o]!;
  }
  const allowed = (b: number, i: number, j: number) => j <= i && (mask === undefined || mask[b * seq + j] === 1);
  const enc = encoder(sd, 'text_model', cfg, h, batch, seq, allowed);
  const hidden = layerNorm(enc, batch * seq, d, get(sd, 'text_model.final_layer_norm.weight'), get(sd, 'text_model.final_layer_norm.bias'), cfg.layerNormEps);
  const positions: number[] = [];
  const pooled = new Float64Array(batch * d);
  for (let b = 0; b < batch; b++) {
    const row = ids.slice(b * seq, (b + 1) * seq);
    const at = cfg.eosTokenId === 2 ? row.indexOf(Math.max(...row)) : Math.max(0, row.indexOf(cfg.eosTokenId));
    positions.push(at);
    pooled.set(hidden.subarray((b * seq + at) * d, (b * seq + at + 1) * d), b * d);
  }
  return { pooled, hidden, positions };
}
