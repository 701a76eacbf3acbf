// A process that starts saving a checkpoint into argv[2] and gets stuck computing its second tensor.
// Once the first tensor is in its temp file it prints `ready` on stdout; the parent then kills it.
import { writeSafetensorsSync } from '../../src/tensor/safetensors-write.js';
import { stateDictFromArrays } from '../../src/tensor/memory-state-dict.js';
import { join } from 'node:path';
import { writeSync } from 'node:fs';

const inner = stateDictFromArrays({ a: { shape: [1024], data: new Float32Array(1024).fill(1) }, b: { shape: [4], data: [1, 2, 3, 4] } });
const stuck = Object.assign(Object.create(inner) as typeof inner, {
  loadF32(name: string): Float32Array {
    if (name === 'b') {
      writeSync(1, 'ready\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // forever: only SIGKILL ends it
    }
    return inner.loadF32(name);
  },
});
writeSafetensorsSync(join(process.argv[2]!, 'model.safetensors'), stuck, { names: ['a', 'b'] });
