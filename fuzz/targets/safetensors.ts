/** safetensors checkpoints: header, offsets, dtypes, then every tensor read as float32. */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import type { FuzzTarget } from '../harness.js';
import { mutatedBytes, showBytes } from '../mutate.js';
import { freshDir, repoFile } from '../seeds.js';

const enc = new TextEncoder();

/** A file with the given header text and `dataBytes` zero bytes of data. */
export function safetensorsBytes(header: string, dataBytes: number): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

const headers: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'X'),
    fc.array(fc.integer({ min: -1, max: 2 ** 33 }), { maxLength: 4 }),
    fc.tuple(fc.integer({ min: -4, max: 64 }), fc.integer({ min: -4, max: 64 })),
    fc.constantFrom('w', '__proto__', 'constructor', '__metadata__', ''),
    fc.boolean(),
  )
  .map(([dtype, shape, [a, b], name, dup]) => {
    const entry = JSON.stringify({ dtype, shape, data_offsets: [a, b] });
    const body = `"${name}":${entry}` + (dup ? `,"${name}":${entry}` : '');
    return safetensorsBytes(`{${body}}`, 64);
  });

function seeds(): Uint8Array[] {
  return [repoFile('test/fixtures/fusion-bench-merges/models/ft1/model.safetensors'), repoFile('test/fixtures/fusion-bench-merges/models/pretrained/model.safetensors')];
}

export const safetensorsTarget: FuzzTarget<Uint8Array> = {
  name: 'safetensors',
  description: 'a .safetensors file: openSafetensors, then info and loadF32 of every tensor',
  arbitrary: () => fc.oneof({ weight: 3, arbitrary: mutatedBytes(seeds()) }, { weight: 1, arbitrary: headers }),
  run(bytes) {
    const path = join(freshDir(), 'model.safetensors');
    writeFileSync(path, bytes);
    const f = openSafetensors(path);
    try {
      for (const name of f.names()) {
        f.info(name);
        f.loadF32(name);
      }
    } finally {
      f.close();
    }
  },
  show: showBytes,
};
