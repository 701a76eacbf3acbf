/**
 * Mutations of seed inputs, as fast-check arbitraries (so failures shrink to few, small edits): byte
 * edits for binary formats, token edits for text. Positions are taken modulo the input's length.
 */
import fc from 'fast-check';

export type ByteOp =
  | { k: 'set'; at: number; v: number }
  | { k: 'flip'; at: number; bit: number }
  | { k: 'word'; at: number; width: 1 | 2 | 4 | 8; v: number; le: boolean }
  | { k: 'insert'; at: number; bytes: number[] }
  | { k: 'delete'; at: number; len: number }
  | { k: 'copy'; from: number; to: number; len: number }
  | { k: 'truncate'; at: number };

/** Values that sit on boundaries: zero, all ones, sign bits, small counts. */
const INTERESTING = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000];

export const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ k: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('word' as const), at: fc.nat(), width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), v: fc.constantFrom(...INTERESTING), le: fc.boolean() }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('copy' as const), from: fc.nat(), to: fc.nat(), len: fc.integer({ min: 1, max: 256 }) }),
  fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }),
);

export function applyByteOps(seed: Uint8Array, ops: readonly ByteOp[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(seed);
  for (const op of ops) {
    const n = b.length;
    const at = (x: number) => (n === 0 ? 0 : x % n);
    switch (op.k) {
      case 'set':
        if (n > 0) b[at(op.at)] = op.v;
        break;
      case 'flip':
        if (n > 0) b[at(op.at)]! ^= 1 << op.bit;
        break;
      case 'word': {
        const p = at(op.at);
        for (let i = 0; i < op.width && p + i < n; i++) {
          const shift = 8 * (op.le ? i : op.width - 1 - i);
          b[p + i] = Math.floor(op.v / 2 ** shift) & 0xff;
        }
        break;
      }
      case 'insert': {
        const p = n === 0 ? 0 : op.at % (n + 1);
        b = concat(b.subarray(0, p), Uint8Array.from(op.bytes), b.subarray(p));
        break;
      }
      case 'delete': {
        const p = at(op.at);
        b = concat(b.subarray(0, p), b.subarray(Math.min(n, p + op.len)));
        break;
      }
      case 'copy': {
        if (n === 0) break;
        const from = at(op.from);
        const chunk = b.slice(from, Math.min(n, from + op.len));
        const to = at(op.to);
        b = concat(b.subarray(0, to), chunk, b.subarray(to));
        break;
      }
      case 'truncate':
        b = b.slice(0, n === 0 ? 0 : op.at % (n + 1));
        break;
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A seed (by index) with up to `maxOps` byte edits. */
export function mutatedBytes(seeds: readonly Uint8Array[], maxOps = 6): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error('mutatedBytes: no seeds');
  return fc
    .tuple(fc.nat({ max: seeds.length - 1 }), fc.array(byteOp, { minLength: 0, maxLength: maxOps }))
    .map(([i, ops]) => applyByteOps(seeds[i]!, ops));
}

export type TextOp =
  | { k: 'insert'; at: number; token: string }
  | { k: 'replace'; at: number; len: number; token: string }
  | { k: 'delete'; at: number; len: number }
  | { k: 'copy'; from: number; to: number; len: number };

/** A seed string with up to `maxOps` edits that insert or replace with `tokens` (or any short text). */
export function mutatedText(seeds: readonly string[], tokens: readonly string[], maxOps = 6): fc.Arbitrary<string> {
  if (seeds.length === 0) throw new Error('mutatedText: no seeds');
  const token = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...tokens) }, { weight: 1, arbitrary: fc.string({ maxLength: 4, unit: 'binary' }) });
  const op: fc.Arbitrary<TextOp> = fc.oneof(
    fc.record({ k: fc.constant('insert' as const), at: fc.nat(), token }),
    fc.record({ k: fc.constant('replace' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }), token }),
    fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 32 }) }),
    fc.record({ k: fc.constant('copy' as const), from: fc.nat(), to: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
  );
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(op, { maxLength: maxOps })).map(([i, ops]) => {
    let s = seeds[i]!;
    for (const o of ops) {
      const n = s.length;
      const at = (x: number) => (n === 0 ? 0 : x % (n + 1));
      if (o.k === 'insert') s = s.slice(0, at(o.at)) + o.token + s.slice(at(o.at));
      else if (o.k === 'replace') s = s.slice(0, at(o.at)) + o.token + s.slice(at(o.at) + o.len);
      else if (o.k === 'delete') s = s.slice(0, at(o.at)) + s.slice(at(o.at) + o.len);
      else {
        const chunk = s.slice(at(o.from), at(o.from) + o.len);
        s = s.slice(0, at(o.to)) + chunk + s.slice(at(o.to));
      }
    }
    return s;
  });
}

/** Shortens long inputs for reports. */
export function clip(s: string, max = 300): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

export function showBytes(b: Uint8Array): string {
  return `${b.length} bytes: ${Buffer.from(b.subarray(0, 64)).toString('hex')}${b.length > 64 ? '…' : ''}`;
}
