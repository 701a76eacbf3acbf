/**
 * `torch_dtype` of a from_pretrained entry: the model's floating tensors as that dtype (values rounded to
 * it, info() reporting it), so that a merge of float16 models is saved as float16 as in Python. The
 * merge itself still computes in float32 (torch would compute in the reduced precision).
 */
import { UserError } from '../errors.js';
import { bf16ToF32, encodeFromF32, f16ToF32, f32ToBf16, f32ToF16, isFloatDType } from '../tensor/dtype.js';
import type { ReadBatch } from '../tensor/io/read-batch.js';
import type { PieceFile } from '../tensor/io/read-helper.js';
import type { DType, StateDict, TensorInfo } from '../tensor/types.js';
import { canReadInto, canReadRanges, pieceFileOf, type ReadIntoStateDict } from './read-into.js';

const TORCH_DTYPES: Readonly<Record<string, DType | null>> = {
  auto: null, float32: 'F32', float: 'F32', float16: 'F16', half: 'F16', bfloat16: 'BF16', float64: 'F64', double: 'F64',
};

/** The dtype a `torch_dtype` option asks for; null keeps the stored dtypes. */
export function parseTorchDtype(value: unknown, where: string): DType | null {
  if (value === undefined || value === null) return null;
  const name = typeof value === 'string' ? value.replace(/^torch\./, '') : undefined;
  if (name === undefined || !Object.hasOwn(TORCH_DTYPES, name)) {
    throw new UserError(`${where}: torch_dtype must be one of ${Object.keys(TORCH_DTYPES).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return TORCH_DTYPES[name]!;
}

let half = new Uint16Array(0);
function halfScratch(n: number): Uint16Array {
  if (half.length < n) half = new Uint16Array(n);
  return half.subarray(0, n);
}

export class DtypeViewStateDict implements ReadIntoStateDict {
  constructor(private readonly inner: StateDict, private readonly dtype: DType) {}

  names(): readonly string[] {
    return this.inner.names();
  }

  has(name: string): boolean {
    return this.inner.has(name);
  }

  info(name: string): TensorInfo {
    const i = this.inner.info(name);
    return isFloatDType(i.dtype) ? { dtype: this.dtype, shape: i.shape } : i;
  }

  loadF32(name: string): Float32Array {
    const data = this.inner.loadF32(name);
    if (!isFloatDType(this.inner.info(name).dtype)) return data;
    if (this.dtype === 'F16') return f16ToF32(f32ToF16(data), data);
    if (this.dtype === 'BF16') return bf16ToF32(f32ToBf16(data), data);
    return data;
  }

  /** The same into the caller's buffer (merging reads so), rounding in place through one reused buffer. */
  loadF32Into(name: string, out: Float32Array, batch?: ReadBatch): Float32Array {
    let data: Float32Array;
    if (canReadInto(this.inner)) data = this.inner.loadF32Into(name, out, batch);
    else {
      const fresh = this.inner.loadF32(name);
      data = out.subarray(0, fresh.length);
      data.set(fresh);
    }
    return this.roundedAfter(name, data, batch);
  }

  /** `data` (of tensor `name`) rounded in place to the view's dtype. */
  private rounded(name: string, data: Float32Array): Float32Array {
    const stored = this.inner.info(name).dtype;
    if (!isFloatDType(stored) || stored === this.dtype) return data;
    if (this.dtype === 'F16') return f16ToF32(f32ToF16(data, halfScratch(data.length)), data);
    if (this.dtype === 'BF16') return bf16ToF32(f32ToBf16(data, halfScratch(data.length)), data);
    return data;
  }

  get loadF32RangeInto(): ((name: string, start: number, out: Float32Array, batch?: ReadBatch) => Float32Array) | undefined {
    const inner = this.inner;
    if (!canReadRanges(inner)) return undefined;
    return (name, start, out, batch) => this.roundedAfter(name, inner.loadF32RangeInto(name, start, out, batch), batch);
  }

  /** The inner file's values where this view leaves them as they are (no rounding to a half dtype). */
  pieceFile(name: string): PieceFile | null {
    const stored = this.inner.info(name).dtype;
    return this.dtype === 'F32' || stored === this.dtype ? pieceFileOf(this.inner, name) : null;
  }

  /** `rounded` now, or once the batch has read `data`. */
  private roundedAfter(name: string, data: Float32Array, batch: ReadBatch | undefined): Float32Array {
    if (batch) batch.then(() => this.rounded(name, data));
    else this.rounded(name, data);
    return data;
  }

  /** Integer buffers keep their exact bytes (int64 values beyond 2^24 have no float32 form). */
  loadRaw(name: string): Uint8Array {
    if (isFloatDType(this.inner.info(name).dtype)) return encodeFromF32(this.dtype, this.loadF32(name), `tensor '${name}'`);
    if (this.inner.loadRaw) return this.inner.loadRaw(name);
    return encodeFromF32(this.inner.info(name).dtype, this.inner.loadF32(name), `tensor '${name}'`);
  }

  close(): void {
    this.inner.close?.();
  }
}
