/**
 * A small builder for ONNX graphs: named values are strings, nodes get unique output names, constants
 * and weights become initializers (so onnxruntime can pre-pack them). `build()` returns the model bytes.
 */
import {
  type AttrValue,
  DataType,
  type DataTypeCode,
  type Dim,
  encodeModel,
  type NodeData,
  type TensorData,
  type ValueInfo,
} from './model.js';
import { type Chunk, type Encoded, joinEncoded } from './proto.js';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFully } from '../util/write-fully.js';
import { UserError } from '../errors.js';

/** protobuf messages (and so ONNX files without external data) cannot exceed 2 GiB. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

export interface NodeOptions {
  /** Operator domain, e.g. 'com.microsoft' for onnxruntime's contrib ops. */
  readonly domain?: string;
  /** Number of outputs (default 1), or their names. */
  readonly outputs?: number | readonly string[];
}

export interface BuildOptions {
  /** ai.onnx opset (default 17: LayerNormalization). */
  readonly opset?: number;
  readonly irVersion?: number;
  readonly producerName?: string;
}

function bytesOf(a: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export class GraphBuilder {
  private readonly nodes: NodeData[] = [];
  private readonly inits: TensorData[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly used = new Set<string>();
  private readonly domains = new Map<string, number>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name with the given prefix. */
  fresh(prefix: string): string {
    let n = `${prefix}_${this.counter++}`;
    while (this.used.has(n)) n = `${prefix}_${this.counter++}`;
    this.used.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`graph ${this.name}: value name ${name} is used twice`);
    this.used.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeCode, dims: readonly Dim[]): string {
    this.inputs.push({ name: this.claim(name), elemType, dims });
    return name;
  }

  /** Marks `value` as a graph output named `name` (an Identity node renames it when they differ). */
  output(value: string, name: string, elemType: DataTypeCode, dims: readonly Dim[]): string {
    if (value !== name) this.node('Identity', [value], {}, { outputs: [name] });
    this.outputs.push({ name, elemType, dims });
    return name;
  }

  /**
   * A float32 initializer. `data` is referenced until build() and must not change before then; a function
   * is called during build(), when the model bytes are written, and its array dropped right after.
   */
  weight(prefix: string, data: Float32Array | (() => Float32Array), dims: readonly number[]): string {
    const n = product(dims);
    const mismatch = (len: number) => new Error(`graph ${this.name}: ${prefix} has ${len} values, dims [${dims.join(', ')}] need ${n}`);
    let raw: Chunk;
    if (typeof data === 'function') {
      raw = {
        length: n * 4,
        produce: () => {
          const a = data();
          if (a.length !== n) throw mismatch(a.length);
          return bytesOf(a);
        },
      };
    } else {
      if (data.length !== n) throw mismatch(data.length);
      raw = bytesOf(data);
    }
    const name = this.fresh(prefix);
    this.inits.push({ name, dims: [...dims], dataType: DataType.FLOAT, raw });
    return name;
  }

  int64s(prefix: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh(prefix);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.inits.push({ name, dims: [...dims], dataType: DataType.INT64, raw: bytesOf(data) });
    return name;
  }

  /** A float constant of either float type (FLOAT or DOUBLE), e.g. for graphs built in double to test gradients. */
  constant(prefix: string, elemType: DataTypeCode, values: ArrayLike<number>, dims: readonly number[] = []): string {
    if (elemType !== DataType.FLOAT && elemType !== DataType.DOUBLE) throw new Error(`graph ${this.name}: constant ${prefix} must be FLOAT or DOUBLE`);
    if (values.length !== product(dims)) throw new Error(`graph ${this.name}: ${prefix} has ${values.length} values, dims [${dims.join(', ')}] need ${product(dims)}`);
    const data = elemType === DataType.FLOAT ? Float32Array.from(values) : Float64Array.from(values);
    const name = this.fresh(prefix);
    this.inits.push({ name, dims: [...dims], dataType: elemType, raw: bytesOf(data) });
    return name;
  }

  /** What has been added so far (read-only views), for passes over the graph such as differentiation. */
  view(): { readonly nodes: readonly NodeData[]; readonly initializers: readonly TensorData[]; readonly inputs: readonly ValueInfo[]; readonly outputs: readonly ValueInfo[] } {
    return { nodes: this.nodes, initializers: this.inits, inputs: this.inputs, outputs: this.outputs };
  }

  /** A float32 scalar (dims []) or vector constant. */
  floats(prefix: string, values: readonly number[], dims: readonly number[] = []): string {
    return this.weight(prefix, Float32Array.from(values), dims);
  }

  /** Adds a node and returns its first output's name. */
  node(opType: string, inputs: readonly string[], attributes: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string {
    return this.nodeOutputs(opType, inputs, attributes, opts)[0]!;
  }

  /** Adds a node and returns all its output names. */
  nodeOutputs(opType: string, inputs: readonly string[], attributes: Record<string, AttrValue> = {}, opts: NodeOptions = {}): string[] {
    const spec = opts.outputs ?? 1;
    const outs = typeof spec === 'number'
      ? Array.from({ length: spec }, () => this.fresh(opType.toLowerCase()))
      : spec.map((n) => this.claim(n));
    if (opts.domain) this.useDomain(opts.domain, 1);
    const node: NodeData = { opType, inputs: [...inputs], outputs: outs, name: this.fresh(`n_${opType}`), attributes };
    this.nodes.push(opts.domain ? { ...node, domain: opts.domain } : node);
    return outs;
  }

  useDomain(domain: string, version: number): void {
    this.domains.set(domain, Math.max(version, this.domains.get(domain) ?? 0));
  }

  /** Encodes the model: one copy of every initializer into the returned buffer. */
  build(opts: BuildOptions = {}): Uint8Array {
    const enc = this.encode(this.inits, opts);
    if (enc.length > MAX_MODEL_BYTES) {
      throw new UserError(`graph ${this.name}: the ONNX model would be ${enc.length} bytes, over protobuf's 2 GiB limit (towers above ~500M float32 parameters are not supported yet)`);
    }
    return joinEncoded(enc);
  }

  /**
   * Encodes the model with every initializer of at least `minBytes` as external data: the model bytes
   * hold the graph only, and each large weight is its own in-memory "file" (named by `weights[i].path`)
   * for onnxruntime's `externalData` option. The weights are never joined into one buffer, so no second
   * copy of them exists, and the model has no 2 GiB limit.
   */
  buildExternal(opts: BuildOptions & { minBytes?: number } = {}): { model: Uint8Array; weights: ExternalWeight[] } {
    const minBytes = opts.minBytes ?? 1024;
    const weights: ExternalWeight[] = [];
    const inits = this.inits.map((t): TensorData => {
      if (t.raw.length < minBytes) return t;
      const path = `w${weights.length}.bin`;
      const data = t.raw instanceof Uint8Array ? t.raw : t.raw.produce();
      if (data.length !== t.raw.length) throw new Error(`graph ${this.name}: initializer ${t.name} produced ${data.length} bytes, announced ${t.raw.length}`);
      weights.push({ path, data, name: t.name });
      return { ...t, raw: new Uint8Array(0), external: { location: path, offset: 0, length: data.length } };
    });
    return { model: joinEncoded(this.encode(inits, opts)), weights };
  }

  /**
   * Writes the model into `dir` as `model.onnx` plus `weights.bin`, every initializer of at least
   * `minBytes` as external data in that file (64-byte aligned). Lazy weights are produced and written
   * one at a time, so at most one of them is in memory; onnxruntime then loads them from the file.
   * Returns the model's path.
   */
  writeExternal(dir: string, opts: BuildOptions & { minBytes?: number } = {}): string {
    const minBytes = opts.minBytes ?? 1024;
    const weightsFile = 'weights.bin';
    const fd = openSync(join(dir, weightsFile), 'w');
    let inits: TensorData[];
    try {
      let at = 0;
      inits = this.inits.map((t): TensorData => {
        if (t.raw.length < minBytes) return t;
        const data = t.raw instanceof Uint8Array ? t.raw : t.raw.produce();
        if (data.length !== t.raw.length) throw new Error(`graph ${this.name}: initializer ${t.name} produced ${data.length} bytes, announced ${t.raw.length}`);
        const pad = (64 - (at % 64)) % 64;
        if (pad > 0) writeFully(fd, new Uint8Array(pad));
        at += pad;
        writeFully(fd, data);
        const offset = at;
        at += data.length;
        return { ...t, raw: new Uint8Array(0), external: { location: weightsFile, offset, length: data.length } };
      });
    } finally {
      closeSync(fd);
    }
    const path = join(dir, 'model.onnx');
    writeFileSync(path, joinEncoded(this.encode(inits, opts)));
    return path;
  }

  private opsets(opts: BuildOptions): Record<string, number> {
    const opsets: Record<string, number> = { '': opts.opset ?? 17 };
    for (const [d, v] of this.domains) opsets[d] = v;
    return opsets;
  }

  private encode(initializers: readonly TensorData[], opts: BuildOptions): Encoded {
    return encodeModel({
      irVersion: opts.irVersion ?? 8,
      opsets: this.opsets(opts),
      producerName: opts.producerName ?? 'fusion-bench',
      graph: { name: this.name, nodes: this.nodes, initializers, inputs: this.inputs, outputs: this.outputs },
    });
  }
}

/** One initializer stored outside the model bytes (see GraphBuilder.buildExternal). */
export interface ExternalWeight {
  /** The external-data location the model names. */
  readonly path: string;
  readonly data: Uint8Array;
  /** The initializer's name in the graph. */
  readonly name: string;
}
