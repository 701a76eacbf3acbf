#!/usr/bin/env node
// Assembles the WebAssembly kernels — src/tensor/kernels/f32-kernels.wat (the merge runner's) and
// src/method/linalg/f64-kernels.wat (the tridiagonalisation's), src/image/u8-kernels.wat (CLIP's resize) — into `<name>-wasm.ts` beside each (the
// module's bytes, base64), which is committed: building or installing fusion-bench needs no assembler.
// Run after editing a .wat (needs the `wabt` dev dependency): node scripts/build-kernels.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const KERNELS = [
  ['../src/tensor/kernels/', 'f32-kernels', 'F32_KERNELS_WASM'],
  ['../src/method/linalg/', 'f64-kernels', 'F64_KERNELS_WASM'],
  ['../src/image/', 'u8-kernels', 'U8_KERNELS_WASM'],
];
const wabt = await wabtInit();
for (const [folder, name, constant] of KERNELS) {
  const dir = new URL(folder, import.meta.url);
  const wat = readFileSync(new URL(`${name}.wat`, dir), 'utf8');
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat(`${name}.wat`, wat, features);
  mod.validate(features);
  const { buffer } = mod.toBinary({});
  const b64 = Buffer.from(buffer).toString('base64');
  const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}' +`).join('\n').replace(/ \+$/, ';');
  writeFileSync(new URL(`${name}-wasm.ts`, dir), `// Generated from ${name}.wat by scripts/build-kernels.mjs — do not edit.
export const ${constant} =
${lines}
`);
  console.log(`${name}: ${buffer.length} bytes`);
}
