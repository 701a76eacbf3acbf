/**
 * Reading CLIP tensors out of any StateDict with shape checks, and the few layout changes the ONNX
 * graphs need (fused q/k/v, transposes). Every failure names the tensor and what was expected.
 */
import { UserError } from '../../errors.js';
import type { GraphBuilder } from '../../onnx/graph-builder.js';
import { DataType } from '../../onnx/model.js';
import { MemoryStateDict } from '../../tensor/memory-state-dict.js';
import type { StateDict } from '../../tensor/types.js';

/** Rows of a checkpoint tensor in a stacked weight, optionally multiplied by `scale` in float32. */
export interface StackedPart {
  readonly key: string;
  readonly shape: readonly number[];
  readonly scale?: number;
}

/**
 * A term added to the output of a Linear module of the graph (LoRA): given the module's key (e.g.
 * 'vision_model.encoder.layers.0.self_attn.q_proj') and its input x [rows, in], returns a value
 * [rows, out], or null to leave the module as it is.
 */
export type LinearAdapter = (g: GraphBuilder, module: string, x: string) => string | null;

export class WeightReader {
  private readonly inputs = new Map<string, readonly number[]>();
  /** Set by gradient graphs that train adapters; the inference graphs leave it unset. */
  linearAdapter: LinearAdapter | null = null;

  /**
   * `asInputs`: every checkpoint tensor the graph uses becomes a graph input named by its key (fed at run
   * time, differentiable) instead of an initializer; layout changes are then graph ops rather than
   * host-side copies.
   */
  constructor(private readonly sd: StateDict, private readonly source: string, readonly asInputs = false) {}

  /** The checkpoint tensors that became graph inputs (asInputs), in order of first use, with their shapes. */
  inputKeys(): ReadonlyMap<string, readonly number[]> {
    return this.inputs;
  }

  /** The graph value of checkpoint tensor `key`: an initializer named after `prefix`, or the graph input `key`. */
  param(g: GraphBuilder, key: string, shape: readonly number[], prefix = key): string {
    if (!this.asInputs) return g.weight(prefix, this.lazy(key, shape), shape);
    if (!this.inputs.has(key)) {
      this.check(key, shape);
      g.input(key, DataType.FLOAT, shape);
      this.inputs.set(key, shape);
    }
    return key;
  }

  /** Checkpoint tensors stacked along their first axis (q/k/v projections fused into one Gemm). */
  stacked(g: GraphBuilder, prefix: string, parts: readonly StackedPart[]): string {
    const rest = parts[0]!.shape.slice(1);
    const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
    if (!this.asInputs) {
      const loaders = parts.map((p) => ({ load: this.lazy(p.key, p.shape), scale: p.scale }));
      return g.weight(prefix, () => concatRows(loaders.map((l) => (l.scale === undefined ? l.load() : scaled(l.load(), l.scale)))), [rows, ...rest]);
    }
    const values = parts.map((p) => {
      const v = this.param(g, p.key, p.shape);
      return p.scale === undefined ? v : g.node('Mul', [v, g.floats('scale', [Math.fround(p.scale)])]);
    });
    return values.length === 1 ? values[0]! : g.node('Concat', values, { axis: 0 });
  }

  has(name: string): boolean {
    return this.sd.has(name);
  }

  /** Checks that `name` exists with this shape. */
  check(name: string, shape: readonly number[]): void {
    if (!this.sd.has(name)) throw new UserError(`${this.source}: tensor ${name} is missing (expected shape [${shape.join(', ')}])`);
    const info = this.sd.info(name);
    const same = info.shape.length === shape.length && info.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new UserError(`${this.source}: tensor ${name} has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}] from the config`);
    }
  }

  /**
   * Checks `name` now and returns a loader for later (graph weights are loaded while the model is
   * written). What the loader returns is only read, never modified: a tensor already in memory is
   * returned as is rather than copied (onnxruntime copies initializers into its own memory).
   */
  lazy(name: string, shape: readonly number[]): () => Float32Array {
    this.check(name, shape);
    const sd = this.sd;
    if (sd instanceof MemoryStateDict) return () => sd.get(name).data;
    return () => this.read(name, shape);
  }

  /** Loads `name` as float32 after checking its shape. */
  load(name: string, shape: readonly number[]): Float32Array {
    this.check(name, shape);
    return this.read(name, shape);
  }

  private read(name: string, shape: readonly number[]): Float32Array {
    const data = this.sd.loadF32(name);
    if (data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`${this.source}: tensor ${name} loaded ${data.length} values for shape [${shape.join(', ')}]`);
    }
    return data;
  }

  /** A scalar, stored as shape [] (or [1] by some exporters). */
  scalar(name: string): number {
    if (!this.sd.has(name)) throw new UserError(`${this.source}: tensor ${name} is missing`);
    const shape = this.sd.info(name).shape;
    if (shape.reduce((a, b) => a * b, 1) !== 1) throw new UserError(`${this.source}: tensor ${name} has shape [${shape.join(', ')}], expected a scalar`);
    return this.sd.loadF32(name)[0]!;
  }
}

/** [rows, cols] row-major → [cols, rows], in cache-sized tiles. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[base + c]!;
      }
    }
  }
  return out;
}

/** Concatenates row-major matrices (or vectors) along their first axis. */
export function concatRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A copy of `a` multiplied by `s` in float32. */
export function scaled(a: Float32Array, s: number): Float32Array {
  const out = new Float32Array(a.length);
  const f = Math.fround(s);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * f;
  return out;
}
