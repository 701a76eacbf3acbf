/**
 * Protocol-buffers wire encoding, just what ONNX model files need: varints, 32-bit floats and
 * length-delimited fields. A message is kept as a list of byte chunks so that large tensor payloads are
 * referenced, not copied, until the whole model is joined once at the end.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/**
 * Bytes produced only when the model is joined: a weight is loaded (or transposed, fused…) straight
 * into the output buffer, so no two copies of all the weights are alive at once.
 */
export interface LazyBytes {
  readonly length: number;
  produce(): Uint8Array;
}

export type Chunk = Uint8Array | LazyBytes;

/** An encoded message: chunks in order, and their total byte length. */
export interface Encoded {
  readonly chunks: readonly Chunk[];
  readonly length: number;
}

export class ProtoWriter {
  private readonly chunks: Chunk[] = [];
  private length = 0;
  // Small fields go to a scratch buffer; it is flushed into `chunks` before each large payload.
  private scratch = new Uint8Array(256);
  private used = 0;

  private ensure(n: number): void {
    if (this.used + n <= this.scratch.length) return;
    const next = new Uint8Array(Math.max(this.scratch.length * 2, this.used + n));
    next.set(this.scratch.subarray(0, this.used));
    this.scratch = next;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.chunks.push(this.scratch.slice(0, this.used));
    this.length += this.used;
    this.used = 0;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.scratch[this.used++] = b;
  }

  /** Unsigned or negative 64-bit varint (negatives as 10-byte two's complement, as protobuf int64 does). */
  private varint(value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new RangeError(`varint: ${value} is not a safe integer`);
      if (value >= 0) {
        let v = value;
        while (v >= 0x80) {
          this.byte((v % 0x80) | 0x80);
          v = Math.floor(v / 0x80);
        }
        this.byte(v);
        return;
      }
      value = BigInt(value);
    }
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    new DataView(this.scratch.buffer, this.scratch.byteOffset).setFloat32(this.used, value, true);
    this.used += 4;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Length-delimited bytes; payloads over 4 KiB (and lazy ones) are referenced rather than copied. */
  bytes(field: number, value: Chunk): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    if (value instanceof Uint8Array && value.length <= 4096) {
      this.ensure(value.length);
      this.scratch.set(value, this.used);
      this.used += value.length;
    } else {
      this.flush();
      this.chunks.push(value);
      this.length += value.length;
    }
    return this;
  }

  message(field: number, value: Encoded): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.flush();
    for (const c of value.chunks) this.chunks.push(c);
    this.length += value.length;
    return this;
  }

  /** Packed repeated int64. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    const enc = inner.finish();
    this.tag(field, WIRE_LEN);
    this.varint(enc.length);
    this.flush();
    for (const c of enc.chunks) this.chunks.push(c);
    this.length += enc.length;
    return this;
  }

  /** Packed repeated float. */
  packedFloats(field: number, values: readonly number[]): this {
    const data = new Uint8Array(new Float32Array(values).buffer);
    return this.bytes(field, data);
  }

  finish(): Encoded {
    this.flush();
    return { chunks: this.chunks, length: this.length };
  }
}

/** Joins an encoded message into one buffer, producing lazy chunks one at a time. */
export function joinEncoded(enc: Encoded): Uint8Array {
  const out = new Uint8Array(enc.length);
  let at = 0;
  for (const c of enc.chunks) {
    const bytes = c instanceof Uint8Array ? c : c.produce();
    if (bytes.length !== c.length) throw new Error(`lazy protobuf chunk produced ${bytes.length} bytes, announced ${c.length}`);
    out.set(bytes, at);
    at += c.length;
  }
  return out;
}
