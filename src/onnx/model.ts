/**
 * The subset of onnx.proto that graph building needs, as plain data, and its encoding. Field numbers
 * follow onnx/onnx.proto (IR version 8+).
 */
import { type Chunk, type Encoded, ProtoWriter } from './proto.js';

/** TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export interface TensorData {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: DataTypeCode;
  /** Little-endian element bytes, row-major (possibly produced only when the model is joined). */
  readonly raw: Chunk;
  /**
   * Stored outside the model (ONNX external data): the bytes live in the named file, or in memory under
   * that name (onnxruntime's `externalData` session option); `raw` is then not written.
   */
  readonly external?: { readonly location: string; readonly offset: number; readonly length: number };
}

/** A float attribute (a plain number is an int attribute). */
export interface FloatAttr {
  readonly f: number;
}
export interface FloatsAttr {
  readonly fs: readonly number[];
}
export type AttrValue = number | readonly number[] | string | FloatAttr | FloatsAttr | TensorData;

export interface NodeData {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttrValue>>;
}

/** A dimension: a fixed size or a symbolic name (dim_param). */
export type Dim = number | string;

export interface ValueInfo {
  readonly name: string;
  readonly elemType: DataTypeCode;
  readonly dims: readonly Dim[];
}

export interface GraphData {
  readonly name: string;
  readonly nodes: readonly NodeData[];
  readonly initializers: readonly TensorData[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
}

export interface ModelData {
  readonly irVersion: number;
  /** domain ('' = ai.onnx) → opset version. */
  readonly opsets: Readonly<Record<string, number>>;
  readonly producerName: string;
  readonly graph: GraphData;
}

// TensorProto.DataLocation
const DATA_LOCATION_EXTERNAL = 1;

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

export function encodeTensor(t: TensorData): Encoded {
  const w = new ProtoWriter();
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  if (t.external) {
    const entry = (key: string, value: string) => new ProtoWriter().string(1, key).string(2, value).finish();
    w.message(13, entry('location', t.external.location));
    w.message(13, entry('offset', String(t.external.offset)));
    w.message(13, entry('length', String(t.external.length)));
    w.int(14, DATA_LOCATION_EXTERNAL);
  } else {
    w.bytes(9, t.raw);
  }
  return w.finish();
}

function isObject(v: AttrValue): v is FloatAttr | FloatsAttr | TensorData {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function encodeAttribute(name: string, v: AttrValue): Encoded {
  const w = new ProtoWriter();
  w.string(1, name);
  if (typeof v === 'number') {
    w.int(3, v).int(20, ATTR_INT);
  } else if (typeof v === 'string') {
    w.string(4, v).int(20, ATTR_STRING);
  } else if (Array.isArray(v)) {
    w.packedInts(8, v as readonly number[]).int(20, ATTR_INTS);
  } else if (isObject(v) && 'f' in v) {
    w.float(2, v.f).int(20, ATTR_FLOAT);
  } else if (isObject(v) && 'fs' in v) {
    w.packedFloats(7, v.fs).int(20, ATTR_FLOATS);
  } else {
    w.message(5, encodeTensor(v as TensorData)).int(20, ATTR_TENSOR);
  }
  return w.finish();
}

function encodeNode(n: NodeData): Encoded {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(k, v));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

function encodeValueInfo(v: ValueInfo): Encoded {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim.finish());
  }
  const tensorType = new ProtoWriter().int(1, v.elemType).message(2, shape.finish()).finish();
  const type = new ProtoWriter().message(1, tensorType).finish();
  return new ProtoWriter().string(1, v.name).message(2, type).finish();
}

function encodeGraph(g: GraphData): Encoded {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const i of g.inputs) w.message(11, encodeValueInfo(i));
  for (const o of g.outputs) w.message(12, encodeValueInfo(o));
  return w.finish();
}

export function encodeModel(m: ModelData): Encoded {
  const w = new ProtoWriter();
  w.int(1, m.irVersion);
  w.string(2, m.producerName);
  w.message(7, encodeGraph(m.graph));
  for (const [domain, version] of Object.entries(m.opsets)) {
    const op = new ProtoWriter();
    if (domain) op.string(1, domain);
    op.int(2, version);
    w.message(8, op.finish());
  }
  return w.finish();
}
