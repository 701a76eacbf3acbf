/**
 * The matrix–vector product at the heart of the tridiagonalisation (tridiag-reduce.ts: n³/3 of its
 * multiply-adds, one product per column, so it cannot be batched into onnxruntime's GEMM) as a small
 * WebAssembly SIMD function: two float64 lanes per instruction and four independent accumulators, which
 * JS's scalar loop cannot express. The module is assembled here, byte by byte — this file is its
 * generator and its source; no toolchain, nothing downloaded. Where WebAssembly SIMD is unavailable the
 * caller keeps its JS loop.
 *
 * symv(a, n, from, v, w): for r in [from, n): w[r] = Σ_{c<n−from} A[r][from + c] · v[c], with A row-major
 * n×n at byte offset `a`, v at byte offset `v`, w (n entries) at byte offset `w`.
 */

// opcodes (WebAssembly core 2.0 and its SIMD proposal)
const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, F64_CONST = 0x44;
const I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c, I32_SHL = 0x74, I32_GE_S = 0x4e;
const F64_ADD = 0xa0, F64_MUL = 0xa2, F64_LOAD = 0x2b, F64_STORE = 0x39;
const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40;
const SIMD = 0xfd;
const v128Load = (offset: number) => [SIMD, 0x00, 3, ...uleb(offset)];
const F64X2_SPLAT = [SIMD, 0x14];
const f64x2Lane = (lane: number) => [SIMD, 0x21, lane];
const F64X2_ADD = [SIMD, 0xf0, 0x01];
const F64X2_MUL = [SIMD, 0xf2, 0x01];

function uleb(x: number): number[] {
  const out: number[] = [];
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
  return out;
}

function sleb(x: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** The module's bytes: imports memory env.memory, exports symv. */
export function symvModuleBytes(): Uint8Array {
  // params: 0 a, 1 n, 2 from, 3 v, 4 w; locals: 5 r, 6 row, 7 c, 8 len4, 9 len (i32); 10 s (f64); 11–14 acc (v128)
  const [a, n, from, v, w, r, row, c, len4, len] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const s = 10;
  const acc = [11, 12, 13, 14];
  const get = (l: number) => [LOCAL_GET, l];
  const set = (l: number) => [LOCAL_SET, l];
  const i32 = (x: number) => [I32_CONST, ...sleb(x)];
  const zero = [F64_CONST, 0, 0, 0, 0, 0, 0, 0, 0];
  const body: number[] = [
    // len = n − from; len4 = len − len % 8
    ...get(n), ...get(from), I32_SUB, ...set(len),
    ...get(len), ...get(len), ...i32(7), 0x71 /* i32.and */, I32_SUB, ...set(len4),
    ...get(from), ...set(r),
    BLOCK, VOID, LOOP, VOID,
    ...get(r), ...get(n), I32_GE_S, BR_IF, 1,
    // row = a + 8 (r n + from)
    ...get(a), ...get(r), ...get(n), I32_MUL, ...get(from), I32_ADD, ...i32(3), I32_SHL, I32_ADD, ...set(row),
    ...acc.flatMap((x) => [...zero, ...F64X2_SPLAT, ...set(x)]),
    ...i32(0), ...set(c),
    BLOCK, VOID, LOOP, VOID,
    ...get(c), ...get(len4), I32_GE_S, BR_IF, 1,
    ...acc.flatMap((x, k) => [
      ...get(x),
      ...get(row), ...get(c), ...i32(3), I32_SHL, I32_ADD, ...v128Load(16 * k),
      ...get(v), ...get(c), ...i32(3), I32_SHL, I32_ADD, ...v128Load(16 * k),
      ...F64X2_MUL, ...F64X2_ADD, ...set(x),
    ]),
    ...get(c), ...i32(8), I32_ADD, ...set(c),
    BR, 0, END, END,
    // s = (acc0 + acc1) + (acc2 + acc3), both lanes
    ...get(acc[0]!), ...get(acc[1]!), ...F64X2_ADD, ...get(acc[2]!), ...get(acc[3]!), ...F64X2_ADD, ...F64X2_ADD, ...set(acc[0]!),
    ...get(acc[0]!), ...f64x2Lane(0), ...get(acc[0]!), ...f64x2Lane(1), F64_ADD, ...set(s),
    // the tail, one at a time
    BLOCK, VOID, LOOP, VOID,
    ...get(c), ...get(len), I32_GE_S, BR_IF, 1,
    ...get(s),
    ...get(row), ...get(c), ...i32(3), I32_SHL, I32_ADD, F64_LOAD, 3, 0,
    ...get(v), ...get(c), ...i32(3), I32_SHL, I32_ADD, F64_LOAD, 3, 0,
    F64_MUL, F64_ADD, ...set(s),
    ...get(c), ...i32(1), I32_ADD, ...set(c),
    BR, 0, END, END,
    // w[r] = s
    ...get(w), ...get(r), ...i32(3), I32_SHL, I32_ADD, ...get(s), F64_STORE, 3, 0,
    ...get(r), ...i32(1), I32_ADD, ...set(r),
    BR, 0, END, END,
    END,
  ];
  const locals = vec([[5, I32], [1, F64], [4, V128]]);
  const code = [...locals, ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0]])), // (i32 ×5) → ()
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 1]])), // memory, min 1 page
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('symv'), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

export interface SymvKernel {
  /** Float64 view of the module's memory with at least `doubles` entries (views from before are stale). */
  reserve(doubles: number): Float64Array;
  symv(aOffset: number, n: number, from: number, vOffset: number, wOffset: number): void;
}

/** The little of the WebAssembly JS API used here (the project's `lib` settings do not declare it). */
interface WasmApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}

let kernel: SymvKernel | null | undefined;

/** The compiled kernel, or null where WebAssembly SIMD is unavailable. */
export function symvKernel(): SymvKernel | null {
  if (kernel !== undefined) return kernel;
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return (kernel = null);
  try {
    const memory = new wasm.Memory({ initial: 1 });
    const instance = new wasm.Instance(new wasm.Module(symvModuleBytes()), { env: { memory } });
    const symv = instance.exports.symv as (a: number, n: number, from: number, v: number, w: number) => void;
    kernel = {
      reserve(doubles) {
        const need = Math.ceil((doubles * 8) / 65536) - memory.buffer.byteLength / 65536;
        if (need > 0) memory.grow(need);
        return new Float64Array(memory.buffer, 0, doubles);
      },
      symv,
    };
  } catch {
    kernel = null;
  }
  return kernel;
}
