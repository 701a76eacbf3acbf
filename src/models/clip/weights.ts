/**
 * Reading CLIP tensors out of any StateDict with shape checks, and the few layout changes the ONNX
 * graphs need (fused q/k/v, transposes). Every failure names the tensor and what was expected.
 */
import { UserError } from '../../errors.js';
import type { StateDict } from '../../tensor/types.js';

export class WeightReader {
  constructor(private readonly sd: StateDict, private readonly source: string) {}

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

  /** Checks `name` now and returns a loader for later (graph weights are loaded while the model is written). */
  lazy(name: string, shape: readonly number[]): () => Float32Array {
    this.check(name, shape);
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
