#!/usr/bin/env node
// Assembles src/tensor/kernels/f32-kernels.wat into src/tensor/kernels/f32-kernels-wasm.ts (the module's
// bytes, base64), which is committed: building or installing fusion-bench needs no assembler. Run after
// editing the .wat (needs the `wabt` dev dependency): node scripts/build-kernels.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const dir = new URL('../src/tensor/kernels/', import.meta.url);
const wat = readFileSync(new URL('f32-kernels.wat', dir), 'utf8');
const wabt = await wabtInit();
const mod = wabt.parseWat('f32-kernels.wat', wat, { simd: true });
mod.validate();
const { buffer } = mod.toBinary({});
const b64 = Buffer.from(buffer).toString('base64');
const lines = b64.match(/.{1,100}/g).map((l) => `  '${l}' +`).join('\n').replace(/ \+$/, ';');
writeFileSync(new URL('f32-kernels-wasm.ts', dir), `// Generated from f32-kernels.wat by scripts/build-kernels.mjs — do not edit.
export const F32_KERNELS_WASM =
${lines}
`);
console.log(`f32-kernels: ${buffer.length} bytes`);
