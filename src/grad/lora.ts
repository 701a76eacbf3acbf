/**
 * LoRA on the Linear modules of a CLIP vision tower, with peft's LoraConfig semantics (what fusion_bench's
 * clip_finetune passes to `get_peft_model(clip_model.vision_model, LoraConfig(**lora_config))`):
 * y = x Wᵀ + b + (alpha/r) · B (A · dropout(x)), A [r, in] initialised as torch's Linear default
 * (kaiming-uniform, a = √5: U(−1/√in, 1/√in)), B [out, r] zeros, dropout on the LoRA input only.
 * Module names are peft's, relative to the wrapped CLIPVisionTransformer ('encoder.layers.0.self_attn.q_proj');
 * parameters are keyed by the tower's checkpoint key plus '.lora_A.weight' / '.lora_B.weight'.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType } from '../onnx/model.js';
import type { ClipVisionConfig } from '../models/clip/config.js';
import type { LinearAdapter } from '../models/clip/weights.js';
import { MemoryStateDict } from '../tensor/memory-state-dict.js';
import { openCheckpoint } from '../tensor/checkpoint.js';
import { writeSafetensorsSync } from '../tensor/safetensors-write.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { writeFolderAtomic } from './io/folder.js';
import { mulberry32 } from '../util/prng.js';

export interface LoraSpec {
  readonly r: number;
  readonly alpha: number;
  /** A list (exact module names or name suffixes after a '.') or one regular expression matched in full, as peft. */
  readonly targetModules: readonly string[] | string;
  readonly dropout: number;
  /** alpha / r (peft without use_rslora). */
  readonly scaling: number;
}

/** One adapted Linear module. */
export interface LoraModule {
  /** Checkpoint key of the module, e.g. 'vision_model.encoder.layers.0.self_attn.q_proj'. */
  readonly key: string;
  /** peft's module name (relative to the vision transformer). */
  readonly peftName: string;
  readonly inDim: number;
  readonly outDim: number;
}

/** LoraConfig keys this implementation honours; any other key is refused rather than silently ignored. */
const KNOWN = new Set(['r', 'lora_alpha', 'target_modules', 'lora_dropout', 'bias', 'task_type', 'inference_mode']);

export function parseLoraConfig(raw: unknown, where: string): LoraSpec {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${where}: expected a mapping (r, lora_alpha, target_modules, lora_dropout, bias), got ${JSON.stringify(raw)}`);
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (!KNOWN.has(k)) throw new UserError(`${where}: key '${k}' is not supported (supported: ${[...KNOWN].join(', ')})`);
  }
  const num = (k: string, dflt: number): number => {
    const v = c[k] ?? dflt;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new UserError(`${where}: '${k}' must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  // peft's defaults: r 8, lora_alpha 8, lora_dropout 0, bias 'none'.
  const r = num('r', 8);
  if (!Number.isInteger(r) || r < 1) throw new UserError(`${where}: 'r' must be an integer ≥ 1, got ${r}`);
  const alpha = num('lora_alpha', 8);
  const dropout = num('lora_dropout', 0);
  if (!(dropout >= 0 && dropout < 1)) throw new UserError(`${where}: 'lora_dropout' must be in [0, 1), got ${dropout}`);
  const bias = c.bias ?? 'none';
  if (bias !== 'none') throw new UserError(`${where}: bias '${String(bias)}' is not supported; only 'none' (LoRA factors trained, every bias frozen)`);
  const t = c.target_modules;
  let targetModules: readonly string[] | string;
  if (typeof t === 'string') {
    try {
      new RegExp(t);
    } catch (e) {
      throw new UserError(`${where}: target_modules '${t}' is not a valid regular expression (${(e as Error).message})`);
    }
    targetModules = t;
  } else if (Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string')) targetModules = t as string[];
  else throw new UserError(`${where}: 'target_modules' must be a non-empty list of module names or a regular expression, got ${JSON.stringify(t)}`);
  return { r, alpha, targetModules, dropout, scaling: alpha / r };
}

/** The Linear modules of the tower, with peft's names. */
function linearModules(cfg: ClipVisionConfig, prefix: string): LoraModule[] {
  const d = cfg.hiddenSize;
  const m = cfg.intermediateSize;
  const out: LoraModule[] = [];
  for (let i = 0; i < cfg.numHiddenLayers; i++) {
    const rel = `encoder.layers.${i}`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) out.push({ key: `${prefix}.${rel}.self_attn.${p}`, peftName: `${rel}.self_attn.${p}`, inDim: d, outDim: d });
    out.push({ key: `${prefix}.${rel}.mlp.fc1`, peftName: `${rel}.mlp.fc1`, inDim: d, outDim: m });
    out.push({ key: `${prefix}.${rel}.mlp.fc2`, peftName: `${rel}.mlp.fc2`, inDim: m, outDim: d });
  }
  return out;
}

/** peft's check_target_module_exists: a string is a full-match regex; a list matches a name or a '.'-suffix. */
function targeted(spec: LoraSpec, name: string): boolean {
  const t = spec.targetModules;
  if (typeof t === 'string') return new RegExp(`^(?:${t})$`).test(name);
  return t.some((s) => name === s || name.endsWith(`.${s}`));
}

/** The modules `spec` adapts; a target that names no Linear module of the tower is an error (as peft). */
export function loraModules(cfg: ClipVisionConfig, spec: LoraSpec, where: string, prefix = 'vision_model'): LoraModule[] {
  const all = linearModules(cfg, prefix);
  const chosen = all.filter((m) => targeted(spec, m.peftName));
  if (chosen.length === 0) {
    throw new UserError(`${where}: target_modules ${JSON.stringify(spec.targetModules)} match no Linear module of the vision tower (its modules: ${[...new Set(all.map((m) => m.peftName.split('.').pop()))].join(', ')})`);
  }
  return chosen;
}

export const loraA = (m: LoraModule) => `${m.key}.lora_A.weight`;
export const loraB = (m: LoraModule) => `${m.key}.lora_B.weight`;
const maskName = (m: LoraModule) => `${m.key}.lora_dropout_mask`;

/** Fresh factors: A ~ U(−1/√in, 1/√in) from a seeded stream (torch's own RNG is not reproduced), B = 0. */
export function initLora(modules: readonly LoraModule[], spec: LoraSpec, seed: number): Map<string, Float32Array> {
  const next = mulberry32(seed);
  const params = new Map<string, Float32Array>();
  for (const m of modules) {
    const bound = 1 / Math.sqrt(m.inDim);
    const a = new Float32Array(spec.r * m.inDim);
    for (let i = 0; i < a.length; i++) a[i] = (2 * next() - 1) * bound;
    params.set(loraA(m), a);
    params.set(loraB(m), new Float32Array(m.outDim * spec.r));
  }
  return params;
}

/** W + scaling · B·A, summed in float64 and rounded once to float32 (W is not modified). */
export function mergeLora(w: Float32Array, a: Float32Array, b: Float32Array, m: LoraModule, r: number, scaling: number): Float32Array {
  const out = new Float32Array(w.length);
  const row = new Float64Array(m.inDim);
  for (let o = 0; o < m.outDim; o++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const bk = b[o * r + k]!;
      if (bk === 0) continue;
      const ak = k * m.inDim;
      for (let i = 0; i < m.inDim; i++) row[i]! += bk * a[ak + i]!;
    }
    const base = o * m.inDim;
    for (let i = 0; i < m.inDim; i++) out[base + i] = w[base + i]! + scaling * row[i]!;
  }
  return out;
}

/**
 * The LoRA terms of a gradient graph: `adapter` for WeightReader.linearAdapter adds the factors (and,
 * with dropout, one mask per module: 0 or 1/(1−p), fed per run) as graph inputs.
 */
export class LoraGraph {
  private readonly byKey: Map<string, LoraModule>;
  /** Graph inputs added, with their shapes. */
  readonly inputs = new Map<string, readonly number[]>();
  private readonly maskBuffers = new Map<string, Float32Array>();

  /** `rows(m)`: the rows of the module's input (batch × tokens, or batch where only the CLS row is computed). */
  constructor(readonly spec: LoraSpec, readonly modules: readonly LoraModule[], private readonly rows: (m: LoraModule) => number) {
    this.byKey = new Map(modules.map((m) => [m.key, m]));
  }

  /** The trainable inputs (the factors). */
  params(): string[] {
    return this.modules.flatMap((m) => [loraA(m), loraB(m)]);
  }

  readonly adapter: LinearAdapter = (g: GraphBuilder, key: string, x: string) => {
    const m = this.byKey.get(key);
    if (!m) return null;
    const r = this.spec.r;
    const a = this.input(g, loraA(m), [r, m.inDim]);
    const b = this.input(g, loraB(m), [m.outDim, r]);
    const xin = this.spec.dropout > 0 ? g.node('Mul', [x, this.input(g, maskName(m), [this.rows(m), m.inDim])]) : x;
    const low = g.node('Gemm', [xin, a], { transB: 1 });
    return g.node('Gemm', [low, b], { transB: 1, alpha: { f: Math.fround(this.spec.scaling) } });
  };

  private input(g: GraphBuilder, name: string, dims: readonly number[]): string {
    if (!this.inputs.has(name)) {
      g.input(name, DataType.FLOAT, dims);
      this.inputs.set(name, dims);
    }
    return name;
  }

  /**
   * Fresh dropout masks (0 or 1/(1−p), seeded) for one run; empty without dropout. The buffers are
   * reused: each call overwrites the masks of the previous one, so use them before asking again.
   */
  masks(next: () => number): Map<string, Float32Array> {
    const p = this.spec.dropout;
    if (p === 0) return this.maskBuffers;
    const keep = Math.fround(1 / (1 - p));
    for (const m of this.modules) {
      let mask = this.maskBuffers.get(maskName(m));
      if (!mask) this.maskBuffers.set(maskName(m), (mask = new Float32Array(this.rows(m) * m.inDim)));
      for (let i = 0; i < mask.length; i++) mask[i] = next() < p ? 0 : keep;
    }
    return this.maskBuffers;
  }
}

// ---- peft's adapter layout: adapter_config.json + adapter_model.safetensors ----

const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const ADAPTER_CONFIG = 'adapter_config.json';
const peftKey = (m: LoraModule, f: 'A' | 'B') => `base_model.model.${m.peftName}.lora_${f}.weight`;

/** True when `path` is a folder holding a peft adapter. */
export function isPeftAdapter(path: string): boolean {
  return existsSync(join(path, ADAPTER_WEIGHTS)) && statSync(path).isDirectory();
}

/**
 * Writes the factors as `PeftModel.save_pretrained` does for a LoRA on the CLIPVisionTransformer
 * (fusion_bench's convert_lora_state_dict_to_hf): float32 tensors named
 * 'base_model.model.<module>.lora_A.weight', and the LoraConfig. Built in a temporary folder renamed into
 * place, so `dir` never holds half an adapter.
 */
export async function writePeftAdapter(dir: string, spec: LoraSpec, modules: readonly LoraModule[], params: ReadonlyMap<string, Float32Array>, baseModel: string | null): Promise<void> {
  await writeFolderAtomic(dir, (tmp) => {
    const tensors: [string, { dtype: 'F32'; shape: number[]; data: Float32Array }][] = [];
    for (const m of modules) {
      tensors.push([peftKey(m, 'A'), { dtype: 'F32', shape: [spec.r, m.inDim], data: params.get(loraA(m))! }]);
      tensors.push([peftKey(m, 'B'), { dtype: 'F32', shape: [m.outDim, spec.r], data: params.get(loraB(m))! }]);
    }
    writeSafetensorsSync(join(tmp, ADAPTER_WEIGHTS), new MemoryStateDict(tensors));
    const config = {
      alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: baseModel, bias: 'none', fan_in_fan_out: false,
      inference_mode: true, init_lora_weights: true, layers_pattern: null, layers_to_transform: null, lora_alpha: spec.alpha,
      lora_dropout: spec.dropout, modules_to_save: null, peft_type: 'LORA', r: spec.r, rank_pattern: {}, revision: null,
      target_modules: spec.targetModules, task_type: null, use_dora: false, use_rslora: false,
    };
    writeFileAtomic(join(tmp, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  });
}

/** Reads the factors of `modules` from a peft adapter folder into `params` (shapes checked). */
export function readPeftAdapter(dir: string, spec: LoraSpec, modules: readonly LoraModule[], params: Map<string, Float32Array>, where: string): void {
  const cfgPath = join(dir, ADAPTER_CONFIG);
  if (existsSync(cfgPath)) {
    let saved: { r?: unknown; lora_alpha?: unknown };
    try {
      saved = JSON.parse(readFileSync(cfgPath, 'utf8')) as typeof saved;
    } catch (e) {
      throw new UserError(`${where}: ${cfgPath} is not valid JSON (${(e as Error).message})`);
    }
    if (saved.r !== undefined && saved.r !== spec.r) throw new UserError(`${where}: the adapter has r = ${String(saved.r)}, lora_config.r is ${spec.r}`);
    if (saved.lora_alpha !== undefined && saved.lora_alpha !== spec.alpha) throw new UserError(`${where}: the adapter has lora_alpha = ${String(saved.lora_alpha)}, lora_config.lora_alpha is ${spec.alpha}`);
  }
  const ckpt = openCheckpoint(join(dir, ADAPTER_WEIGHTS));
  try {
    for (const m of modules) {
      for (const f of ['A', 'B'] as const) {
        const k = peftKey(m, f);
        if (!ckpt.has(k)) throw new UserError(`${where}: tensor ${k} is missing (target_modules differ from the adapter's?)`);
        const dst = params.get(f === 'A' ? loraA(m) : loraB(m))!;
        const v = ckpt.loadF32(k);
        if (v.length !== dst.length) throw new UserError(`${where}: tensor ${k} has ${v.length} values, expected ${dst.length}`);
        dst.set(v);
      }
    }
  } finally {
    ckpt.close();
  }
}
