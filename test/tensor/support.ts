/** Shared helpers for the tensor tests: temp directories and hand-built safetensors files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A fresh temp directory, removed when the test file finishes. */
export function tempDir(prefix = 'fb-tensor-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Writes a safetensors file by hand (no use of the writer under test): 8-byte length, the given header
 * (an object, serialised compactly, or raw text), then `data`. `declaredLength` overrides the length field.
 */
export function craftSafetensors(path: string, header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): string {
  const headerBytes =
    header instanceof Uint8Array ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declaredLength ?? BigInt(headerBytes.length));
  writeFileSync(path, Buffer.concat([len, headerBytes, data]));
  return path;
}

/** Little-endian float32 bytes of `values`, written through DataView (independent of typed-array views). */
export function f32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return out;
}
