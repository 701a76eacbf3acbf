/**
 * This thread's instance of u8-kernels.wat (WebAssembly SIMD: the JPEG decoder's IDCT and colour
 * conversion, CLIP's resize and normalisation) and its one memory, which grows to the largest image seen.
 * Callers lay out their buffers from offset 0 for the length of one call, so the calls must not nest.
 */
import { U8_KERNELS_WASM } from './u8-kernels-wasm.js';

/** The little of the WebAssembly JS API used here (the project's `lib` settings do not declare it). */
interface WasmApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}

export interface U8Exports {
  hpass3(src: number, srcStride: number, rows: number, dst: number, ncols: number, bounds: number, kk: number, ksize: number): void;
  vpass(src: number, stride: number, rowOffset: number, dst: number, nbytes: number, rows: number, bounds: number, kk: number, ksize: number): void;
  normalize3(rgb: number, n: number, lut: number, out: number, plane: number): void;
  idctPlane(coefs: number, blocksWide: number, blocksHigh: number, strideBlocks: number, quant: number, out: number, outStride: number): void;
  upsampleH2(src: number, srcStride: number, height: number, width: number, out: number, outStride: number, outRows: number, v2: number): void;
  yccToRgb(y: number, ys: number, cb: number, cbs: number, cr: number, crs: number, width: number, height: number, out: number): void;
}

/** Room to leave after every buffer: the kernels' whole-vector loads and stores run past a row's end. */
export const SLACK = 64;
export const align16 = (n: number): number => (n + 15) & ~15;

export class U8Wasm {
  private constructor(
    private readonly memory: { buffer: ArrayBuffer; grow(pages: number): number },
    readonly x: U8Exports,
  ) {}

  /** A fresh instance, or null where WebAssembly SIMD is unavailable (or FUSION_BENCH_NO_WASM is set). */
  static create(): U8Wasm | null {
    const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (process.env.FUSION_BENCH_NO_WASM || wasm === undefined) return null;
    try {
      const memory = new wasm.Memory({ initial: 1 });
      const x = new wasm.Instance(new wasm.Module(Buffer.from(U8_KERNELS_WASM, 'base64')), { env: { memory } }).exports as unknown as U8Exports;
      return new U8Wasm(memory, x);
    } catch {
      return null;
    }
  }

  /** The memory, at least `bytes` long; views made before a call that grew it are detached. */
  reserve(bytes: number): Uint8Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / 65536));
    return new Uint8Array(this.memory.buffer);
  }
}

let shared: U8Wasm | null | undefined;

/** This thread's instance (made on first use), or null where WebAssembly SIMD is unavailable. */
export function u8Wasm(): U8Wasm | null {
  if (shared === undefined) shared = U8Wasm.create();
  return shared;
}
