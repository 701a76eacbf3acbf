/**
 * A view of some tensors of another state dict (e.g. a CLIPModel file's `vision_model.*`), optionally
 * under other names (a transformers ≥ 5 CLIPVisionModel file's bare keys seen as `vision_model.*`).
 */
import { encodeFromF32 } from '../tensor/dtype.js';
import type { ReadBatch } from '../tensor/io/read-batch.js';
import type { PieceFile } from '../tensor/io/read-helper.js';
import type { StateDict, TensorInfo } from '../tensor/types.js';
import { canReadInto, canReadRanges, pieceFileOf, type ReadIntoStateDict } from './read-into.js';

export class SubsetStateDict implements ReadIntoStateDict {
  private readonly order: readonly string[];
  /** Our name → the inner state dict's name. */
  private readonly members: ReadonlyMap<string, string>;

  /** `innerNames[i]` is what `names[i]` is called in `inner` (default: the same). */
  constructor(private readonly inner: StateDict, names: readonly string[], innerNames: readonly string[] = names) {
    if (innerNames.length !== names.length) throw new Error('SubsetStateDict: names and innerNames differ in length');
    this.order = Object.freeze([...names]);
    this.members = new Map(names.map((n, i) => [n, innerNames[i]!]));
  }

  names(): readonly string[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  info(name: string): TensorInfo {
    return this.inner.info(this.innerName(name));
  }

  loadF32(name: string): Float32Array {
    return this.inner.loadF32(this.innerName(name));
  }

  loadRaw(name: string): Uint8Array {
    const n = this.innerName(name);
    return this.inner.loadRaw ? this.inner.loadRaw(n) : encodeFromF32(this.inner.info(n).dtype, this.inner.loadF32(n), `tensor '${name}'`);
  }

  get loadF32RangeInto(): ((name: string, start: number, out: Float32Array, batch?: ReadBatch) => Float32Array) | undefined {
    const inner = this.inner;
    if (!canReadRanges(inner)) return undefined;
    return (name, start, out, batch) => inner.loadF32RangeInto(this.innerName(name), start, out, batch);
  }

  pieceFile(name: string): PieceFile | null {
    return pieceFileOf(this.inner, this.innerName(name));
  }

  loadF32Into(name: string, out: Float32Array, batch?: ReadBatch): Float32Array {
    const n = this.innerName(name);
    if (canReadInto(this.inner)) return this.inner.loadF32Into(n, out, batch);
    const data = this.inner.loadF32(n);
    out.set(data);
    return out.subarray(0, data.length);
  }

  close(): void {
    this.inner.close?.();
  }

  private innerName(name: string): string {
    const n = this.members.get(name);
    if (n === undefined) throw new Error(`no tensor named '${name}' in this state dict`);
    return n;
  }
}
