/**
 * One float tensor in a file whose extension names the format: `.pt` (torch.save, as fusion_bench writes
 * merging weights), `.npy`, or `.safetensors` (a single tensor under any name). Written through a
 * temporary file and renamed; read with every problem reported as a UserError naming the file.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { UserError } from '../../errors.js';
import { stateDictFromArrays } from '../../tensor/memory-state-dict.js';
import { openSafetensors } from '../../tensor/safetensors-read.js';
import { writeSafetensorsSync } from '../../tensor/safetensors-write.js';
import { tempPathFor, writeFileAtomic } from '../../util/atomic-write.js';
import { renameSync, rmSync } from 'node:fs';
import { decodeTorchTensor, encodeTorchTensor } from './torch-pt.js';

export const TENSOR_FILE_EXTENSIONS = ['.pt', '.npy', '.safetensors'] as const;

export interface LoadedTensor {
  readonly data: Float32Array;
  readonly shape: number[];
}

function formatOf(path: string, what: string): (typeof TENSOR_FILE_EXTENSIONS)[number] {
  const ext = extname(path).toLowerCase();
  if ((TENSOR_FILE_EXTENSIONS as readonly string[]).includes(ext)) return ext as (typeof TENSOR_FILE_EXTENSIONS)[number];
  throw new UserError(`${what} ${path}: unknown format '${ext}'; use a .pt, .npy or .safetensors file`);
}

function npyBytes(data: Float32Array, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function readNpy(buf: Buffer, path: string): LoadedTensor {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new UserError(`${path}: not a .npy file`);
  const major = buf[6]!;
  if (major < 1 || major > 3) throw new UserError(`${path}: .npy format version ${major} is not one numpy writes (1, 2 or 3)`);
  const start = major === 1 ? 10 : 12;
  if (buf.length < start) throw new UserError(`${path}: the .npy header is cut short`);
  const len = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (start + len > buf.length) throw new UserError(`${path}: the .npy header says ${len} bytes, the file has ${buf.length - start}`);
  const header = buf.toString('latin1', start, start + len);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new UserError(`${path}: unreadable .npy header ${JSON.stringify(header.trim().slice(0, 200))}`);
  if (fortran === 'True') throw new UserError(`${path}: Fortran-ordered arrays are not supported`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new UserError(`${path}: the .npy shape (${shapeText.slice(0, 100)}) is not a list of sizes`);
  const itemSize = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
  const body = buf.subarray(start + len);
  // checked before allocating: a header may claim any shape
  const n = shape.reduce((a, b) => a * b, 1);
  if (itemSize === 0 || n * itemSize > body.length) throw new UserError(`${path}: expected float32 or float64 data ('<f4' / '<f8') with ${n} values, got '${descr.slice(0, 20)}' and ${body.length} bytes`);
  const data = new Float32Array(n);
  if (itemSize === 4) for (let i = 0; i < n; i++) data[i] = body.readFloatLE(i * 4);
  else for (let i = 0; i < n; i++) data[i] = body.readDoubleLE(i * 8);
  return { data, shape };
}

/** Writes `data` with `shape` in the format `path`'s extension names. */
export function writeTensorFile(path: string, data: Float32Array, shape: readonly number[], what = 'tensor file'): void {
  const format = formatOf(path, what);
  if (format === '.safetensors') {
    const tmp = tempPathFor(path);
    try {
      writeSafetensorsSync(tmp, stateDictFromArrays({ merge_weight: { shape: [...shape], data } }));
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return;
  }
  writeFileAtomic(path, format === '.pt' ? encodeTorchTensor(data, shape) : npyBytes(data, shape));
}

/** Reads one float tensor (as float32) from a .pt, .npy or .safetensors file. */
export function readTensorFile(path: string, what = 'tensor file'): LoadedTensor {
  const format = formatOf(path, what);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new UserError(`${what} ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (format === '.npy') return readNpy(buf, path);
  if (format === '.pt') {
    try {
      const t = decodeTorchTensor(buf);
      return { data: Float32Array.from(t.data), shape: t.shape };
    } catch (e) {
      throw new UserError(`${what} ${path}: not a torch.save file of one tensor (${(e as Error).message}); only tensor data is read from .pt files, never other pickled objects`);
    }
  }
  const f = openSafetensors(path);
  try {
    const names = f.names();
    if (names.length !== 1) throw new UserError(`${what} ${path}: expected one tensor, found ${names.length} (${names.slice(0, 5).join(', ')})`);
    return { data: f.loadF32(names[0]!), shape: [...f.info(names[0]!).shape] };
  } finally {
    f.close();
  }
}
