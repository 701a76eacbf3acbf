/**
 * torch.save files holding one tensor: written as torch 1.13 writes them (a zip of `data.pkl`, pickle
 * protocol 2 calling torch._utils._rebuild_tensor_v2, and the storage bytes), readable by `torch.load`
 * with or without `weights_only`. Reading runs a pickle machine that knows only the opcodes and the few
 * allow-listed globals a saved tensor (or nn.Parameter) needs, never a general unpickler: like torch's
 * `weights_only=True`, a file that would call anything else is refused.
 */
import { readZip, writeZip } from './zip.js';

const STORAGE_DTYPES: Record<string, { bytes: number; read: (b: Buffer, i: number) => number }> = {
  FloatStorage: { bytes: 4, read: (b, i) => b.readFloatLE(i * 4) },
  DoubleStorage: { bytes: 8, read: (b, i) => b.readDoubleLE(i * 8) },
  HalfStorage: { bytes: 2, read: (b, i) => halfToFloat(b.readUInt16LE(i * 2)) },
  BFloat16Storage: { bytes: 2, read: (b, i) => new Float32Array(new Uint32Array([b.readUInt16LE(i * 2) << 16]).buffer)[0]! },
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

// ---------------------------------------------------------------------------------------------- writing

function unicode(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return Buffer.concat([Buffer.from('X', 'latin1'), len, b]);
}

function int(n: number): Buffer {
  if (n >= 0 && n < 256) return Buffer.from([0x4b, n]);
  const b = Buffer.alloc(5);
  b[0] = 0x4a;
  b.writeInt32LE(n, 1);
  return b;
}

function tuple(items: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('(', 'latin1'), ...items, Buffer.from('t', 'latin1')]);
}

const global = (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, 'latin1');

/** The bytes of a torch.save file of one contiguous float32 tensor of `shape`. */
export function encodeTorchTensor(data: Float32Array, shape: readonly number[], archive = 'archive'): Uint8Array {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const pkl = Buffer.concat([
    Buffer.from([0x80, 0x02]),
    global('torch._utils', '_rebuild_tensor_v2'),
    Buffer.from('(', 'latin1'),
    tuple([unicode('storage'), global('torch', 'FloatStorage'), unicode('0'), unicode('cpu'), int(data.length)]),
    Buffer.from('Q', 'latin1'),
    int(0),
    tuple(shape.map(int)),
    tuple(strides.map(int)),
    Buffer.from([0x89]),
    global('collections', 'OrderedDict'),
    Buffer.from(')R', 'latin1'),
    Buffer.from('tR.', 'latin1'),
  ]);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return writeZip([
    { name: `${archive}/data.pkl`, data: pkl },
    { name: `${archive}/data/0`, data: bytes },
    { name: `${archive}/version`, data: Buffer.from('3\n', 'latin1') },
  ]);
}

// ---------------------------------------------------------------------------------------------- reading

interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: number[];
  readonly stride: number[];
}
interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: string;
  readonly key: string;
  readonly numel: number;
}
interface Global {
  readonly kind: 'global';
  readonly name: string;
}
type Value = number | string | boolean | null | Value[] | Map<unknown, unknown> | TensorRef | StorageRef | Global | { kind: 'tuple'; items: Value[] } | typeof MARK;

const MARK = Symbol('mark');

/** torch's allow-list, reduced to what a saved tensor needs. */
const ALLOWED = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._tensor._rebuild_from_type_v2',
  'torch.Tensor',
  'torch.nn.parameter.Parameter',
  'collections.OrderedDict',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

export class NotATensorFile extends Error {}

function items(v: Value): Value[] {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'kind' in v && v.kind === 'tuple') return v.items;
  throw new NotATensorFile('expected a tuple');
}

function call(fn: Value, args: Value[]): Value {
  if (typeof fn !== 'object' || fn === null || Array.isArray(fn) || !('kind' in fn) || fn.kind !== 'global') throw new NotATensorFile('REDUCE of something that is not a global');
  switch (fn.name) {
    case 'collections.OrderedDict':
      return new Map();
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args;
      if (typeof storage !== 'object' || storage === null || !('kind' in storage) || storage.kind !== 'storage') throw new NotATensorFile('_rebuild_tensor_v2 without a storage');
      return { kind: 'tensor', storage, offset: offset as number, size: items(size!) as number[], stride: items(stride!) as number[] };
    }
    case 'torch._utils._rebuild_parameter':
      return args[0]!;
    case 'torch._tensor._rebuild_from_type_v2':
      return call(args[0]!, items(args[2]!));
    default:
      throw new NotATensorFile(`a call of ${fn.name}`);
  }
}

function unpickle(pkl: Buffer): Value {
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let p = 0;
  const popMark = (): Value[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new NotATensorFile('MARK missing');
    const out = stack.splice(i);
    out.shift();
    return out;
  };
  const pop = (): Value => {
    if (stack.length === 0) throw new NotATensorFile('stack underflow');
    return stack.pop()!;
  };
  const line = (): string => {
    const e = pkl.indexOf(0x0a, p);
    if (e < 0) throw new NotATensorFile('truncated');
    const s = pkl.toString('latin1', p, e);
    p = e + 1;
    return s;
  };
  const globalOf = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) throw new NotATensorFile(`the global ${full} is not allowed`);
    return { kind: 'global', name: full };
  };
  while (p < pkl.length) {
    const op = pkl[p++]!;
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x63: { const m = line(); stack.push(globalOf(m, line())); break; } // GLOBAL
      case 0x93: { const name = pop() as string; stack.push(globalOf(pop() as string, name)); break; } // STACK_GLOBAL
      case 0x71: memo.set(pkl[p++]!, stack[stack.length - 1]!); break; // BINPUT
      case 0x72: memo.set(pkl.readUInt32LE(p), stack[stack.length - 1]!); p += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]!); break; // MEMOIZE
      case 0x68: stack.push(memo.get(pkl[p++]!)!); break; // BINGET
      case 0x6a: stack.push(memo.get(pkl.readUInt32LE(p))!); p += 4; break; // LONG_BINGET
      case 0x28: stack.push(MARK); break;
      case 0x74: stack.push({ kind: 'tuple', items: popMark() }); break; // TUPLE
      case 0x29: stack.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
      case 0x85: stack.push({ kind: 'tuple', items: [pop()] }); break;
      case 0x86: { const b = pop(); stack.push({ kind: 'tuple', items: [pop(), b] }); break; }
      case 0x87: { const c = pop(); const b = pop(); stack.push({ kind: 'tuple', items: [pop(), b, c] }); break; }
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x73: { const v = pop(); const k = pop(); (stack[stack.length - 1] as Map<unknown, unknown>).set(k, v); break; } // SETITEM
      case 0x75: { const kv = popMark(); const d = stack[stack.length - 1] as Map<unknown, unknown>; for (let i = 0; i < kv.length; i += 2) d.set(kv[i], kv[i + 1]); break; } // SETITEMS
      case 0x61: { const v = pop(); (stack[stack.length - 1] as Value[]).push(v); break; } // APPEND
      case 0x65: { const vs = popMark(); (stack[stack.length - 1] as Value[]).push(...vs); break; } // APPENDS
      case 0x58: { const n = pkl.readUInt32LE(p); stack.push(pkl.toString('utf8', p + 4, p + 4 + n)); p += 4 + n; break; } // BINUNICODE
      case 0x8c: { const n = pkl[p]!; stack.push(pkl.toString('utf8', p + 1, p + 1 + n)); p += 1 + n; break; } // SHORT_BINUNICODE
      case 0x4a: stack.push(pkl.readInt32LE(p)); p += 4; break; // BININT
      case 0x4b: stack.push(pkl[p++]!); break; // BININT1
      case 0x4d: stack.push(pkl.readUInt16LE(p)); p += 2; break; // BININT2
      case 0x8a: { // LONG1
        const n = pkl[p++]!;
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(pkl[p + i]!);
        if (n > 0 && pkl[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(Number(v));
        p += n;
        break;
      }
      case 0x47: stack.push(pkl.readDoubleBE(p)); p += 8; break; // BINFLOAT
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4e: stack.push(null); break;
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = items(pop());
        const type = pid[1] as Global;
        if (pid[0] !== 'storage' || !type || type.kind !== 'global') throw new NotATensorFile('a persistent id that is not a storage');
        stack.push({ kind: 'storage', dtype: type.name.slice('torch.'.length), key: String(pid[2]), numel: pid[4] as number });
        break;
      }
      case 0x52: { const args = items(pop()); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x62: pop(); break; // BUILD (state of a rebuilt object: ignored)
      case 0x2e: return pop(); // STOP
      default:
        throw new NotATensorFile(`pickle opcode 0x${op.toString(16)} is not part of a saved tensor`);
    }
  }
  throw new NotATensorFile('no STOP');
}

/** The tensor of a torch.save file: float64 values (converted from its storage dtype) and its shape. */
export function decodeTorchTensor(file: Uint8Array): { data: Float64Array; shape: number[] } {
  const records = readZip(file);
  const pklName = [...records.keys()].find((n) => n.endsWith('/data.pkl') && n.split('/').length === 2);
  if (!pklName) throw new NotATensorFile('no data.pkl (a torch.save file from torch 1.6 or later is a zip archive)');
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const v = unpickle(Buffer.from(records.get(pklName)!));
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !('kind' in v) || v.kind !== 'tensor') throw new NotATensorFile('the file holds something other than one tensor');
  const dt = STORAGE_DTYPES[v.storage.dtype];
  if (!dt) throw new NotATensorFile(`storage type ${v.storage.dtype}`);
  const raw = records.get(`${prefix}data/${v.storage.key}`);
  if (!raw) throw new NotATensorFile(`storage record data/${v.storage.key} is missing`);
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const numel = v.size.reduce((a, b) => a * b, 1);
  const out = new Float64Array(numel);
  // strided read, any layout
  const idx = new Array<number>(v.size.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let at = v.offset;
    for (let d = 0; d < idx.length; d++) at += idx[d]! * v.stride[d]!;
    if ((at + 1) * dt.bytes > buf.length) throw new NotATensorFile('the tensor reaches past its storage');
    out[i] = dt.read(buf, at);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < v.size[d]!) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: v.size };
}
