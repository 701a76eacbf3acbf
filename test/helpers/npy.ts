/** A small reader for NumPy `.npy` files (format 1.x/2.x/3.x, little-endian, C order) used by the golden tests. */
import { readFileSync } from 'node:fs';

export type NpyData = Uint8Array | Int8Array | Int32Array | Float32Array | Float64Array | BigInt64Array | Uint16Array | Int16Array;

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: NpyData;
}

const CTORS: Record<string, { new (buf: ArrayBuffer): NpyData; BYTES_PER_ELEMENT: number }> = {
  '|u1': Uint8Array,
  '|i1': Int8Array,
  '<u2': Uint16Array,
  '<i2': Int16Array,
  '<i4': Int32Array,
  '<i8': BigInt64Array,
  '<f4': Float32Array,
  '<f8': Float64Array,
};

export function readNpy(path: string): NpyArray {
  const buf = readFileSync(path);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.toString('latin1', 4, 6) !== 'PY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${path}: bad header ${header}`);
  if (fortran === 'True') throw new Error(`${path}: Fortran order is not supported`);
  const ctor = CTORS[descr];
  if (!ctor) throw new Error(`${path}: dtype ${descr} is not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLen;
  const bytes = buf.subarray(start, start + count * ctor.BYTES_PER_ELEMENT);
  if (bytes.length !== count * ctor.BYTES_PER_ELEMENT) throw new Error(`${path}: truncated data`);
  // Copy into a fresh, aligned buffer.
  const ab = new ArrayBuffer(bytes.length);
  new Uint8Array(ab).set(bytes);
  return { dtype: descr, shape, data: new ctor(ab) };
}
