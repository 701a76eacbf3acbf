/**
 * WebAssembly SIMD for the merge kernels. A merge's scratch buffers are views into one WebAssembly
 * memory (an arena), so that the element-wise loops can run in f32-kernels.wat, 4 lanes at a time; a
 * kernel takes that path only when every array it is given lies in the same arena, and otherwise (or
 * where WebAssembly SIMD is unavailable) the JavaScript loop computes the same float32 values.
 */
import { f16ToF32Table } from '../dtype.js';
import { F32_KERNELS_WASM } from './f32-kernels-wasm.js';

// The part of the WebAssembly global used here (the project's lib settings do not declare it).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(d: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
  }
  class Instance {
    constructor(m: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}

export interface WasmKernels {
  sub(x: number, b: number, n: number): void;
  add(acc: number, x: number, n: number): void;
  addDiff(acc: number, x: number, b: number, n: number): void;
  baseAddScaled(out: number, base: number, s: number, v: number, n: number): void;
  subTrimAdd(x: number, b: number, thr: number, sum: number, n: number): void;
  signInPlace(p: number, n: number, fill: number): number;
  addAgreeing(out: number, v: number, sign: number, n: number): void;
  histHigh(x: number, n: number, h: number): void;
  histLowSum(x: number, n: number, bin: number, h: number, sum: number, open: number): void;
  decidedBalance(sum: number, open: number, n: number): number;
  widenHalf(p: number, n: number, bf: number): void;
  addDiffHalf(acc: number, x: number, b: number, n: number, bf: number, first: number): void;
  narrowHalf(p: number, n: number, bf: number): void;
  maxAbsInto(best: number, x: number, n: number): void;
  gramAdd(tau: number, k: number, stride: number, len: number, g: number): void;
  dotScaled(x: number, y: number, dx: number, dy: number, n: number): number;
  axpby(out: number, s: number, x: number, t: number, y: number, n: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = process.env.FUSION_BENCH_NO_WASM ? null : new WebAssembly.Module(Buffer.from(F32_KERNELS_WASM, 'base64'));
    } catch {
      compiled = null; // no WebAssembly SIMD here: the JavaScript loops do the work
    }
  }
  return compiled;
}

const kernelsByBuffer = new WeakMap<ArrayBufferLike, WasmKernels>();

const PAGE = 65536;
/** wasm32 memories end at 4 GiB; larger arenas are not made (the caller uses plain arrays). */
const MAX_BYTES = 65535 * PAGE;

/**
 * One WebAssembly memory cut into equal, 64-byte aligned slots of float32 values. The memory is shared
 * (its buffer a SharedArrayBuffer, never grown): a helper thread may read files straight into slots.
 */
export class F32Arena {
  /** The memory's buffer, fetched once: the same object for every view and the kernels' lookup. */
  readonly buffer: SharedArrayBuffer;
  /** The memory itself (a helper thread instantiates its own kernels on it). */
  readonly memory: WebAssembly.Memory;
  private readonly stride: number;

  private constructor(readonly slots: number, readonly slotLength: number, mod: WebAssembly.Module) {
    this.stride = Math.ceil((slotLength * 4) / 64) * 64;
    const pages = Math.max(1, Math.ceil((slots * this.stride) / PAGE));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const instance = new WebAssembly.Instance(mod, { env: { memory } });
    this.memory = memory;
    this.buffer = memory.buffer as SharedArrayBuffer;
    kernelsByBuffer.set(this.buffer, instance.exports as unknown as WasmKernels);
  }

  /** An arena of `slots` × `slotLength` floats, or null where WebAssembly cannot hold it. */
  static create(slots: number, slotLength: number): F32Arena | null {
    const mod = kernelModule();
    if (mod === null || slots * Math.ceil((slotLength * 4) / 64) * 64 > MAX_BYTES) return null;
    try {
      return new F32Arena(slots, slotLength, mod);
    } catch {
      return null; // out of address space: plain arrays
    }
  }

  /** The first `n` floats of slot `slot` (n ≤ slotLength); never moves, as the memory never grows. */
  view(slot: number, n: number): Float32Array {
    return new Float32Array(this.buffer, slot * this.stride, n);
  }
}

/**
 * Widens, in place, the `out.length` float16 (or bfloat16) values stored in the upper half of `out`'s
 * bytes into `out`, exactly: WebAssembly SIMD inside an arena, else a table lookup / shift per value
 * (front to back, each value read before its bytes are overwritten).
 */
export function widenHalfInPlace(out: Float32Array, bf16: boolean): void {
  const n = out.length;
  const k = kernelsByBuffer.get(out.buffer);
  if (k !== undefined) return k.widenHalf(out.byteOffset, n, bf16 ? 1 : 0);
  const src = new Uint16Array(out.buffer, out.byteOffset + 2 * n, n);
  const dst = new Uint32Array(out.buffer, out.byteOffset, n);
  if (bf16) for (let i = 0; i < n; i++) dst[i] = src[i]! << 16;
  else {
    const t = f16ToF32Table();
    for (let i = 0; i < n; i++) dst[i] = t[src[i]!]!;
  }
}

/**
 * `data` rounded to float16 (or bfloat16) in place, as f32ToF16 / f32ToBf16 round: the 16-bit values
 * overwrite the first half of its bytes, which are returned. Null (data untouched) outside an arena.
 */
export function narrowHalfInPlace(data: Float32Array, bf16: boolean): Uint8Array | null {
  const k = kernelsByBuffer.get(data.buffer);
  if (k === undefined) return null;
  k.narrowHalf(data.byteOffset, data.length, bf16 ? 1 : 0);
  return new Uint8Array(data.buffer, data.byteOffset, 2 * data.length);
}

/** The kernels instance over an arena's memory, by its buffer. */
export function kernelsOf(buffer: ArrayBufferLike): WasmKernels | null {
  return kernelsByBuffer.get(buffer) ?? null;
}

/** The WebAssembly kernels when every array lies in one arena; null otherwise. */
export function kernelsFor(a: Float32Array, ...rest: Float32Array[]): WasmKernels | null {
  const k = kernelsByBuffer.get(a.buffer);
  if (k === undefined) return null;
  for (const r of rest) if (r.buffer !== a.buffer) return null;
  return k;
}
