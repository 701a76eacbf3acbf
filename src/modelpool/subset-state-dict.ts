/** A view of some tensors of another state dict (e.g. a CLIPModel file's `vision_model.*`). */
import { encodeFromF32 } from '../tensor/dtype.js';
import type { StateDict, TensorInfo } from '../tensor/types.js';
import { canReadInto, F32FileReader, type ReadIntoStateDict } from './read-into.js';

export class SubsetStateDict implements ReadIntoStateDict {
  private readonly order: readonly string[];
  private readonly members: ReadonlySet<string>;
  private readonly files = new F32FileReader();

  constructor(private readonly inner: StateDict, names: readonly string[]) {
    this.order = Object.freeze([...names]);
    this.members = new Set(names);
  }

  names(): readonly string[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  info(name: string): TensorInfo {
    this.check(name);
    return this.inner.info(name);
  }

  loadF32(name: string): Float32Array {
    this.check(name);
    return this.inner.loadF32(name);
  }

  loadRaw(name: string): Uint8Array {
    this.check(name);
    return this.inner.loadRaw ? this.inner.loadRaw(name) : encodeFromF32(this.inner.info(name).dtype, this.inner.loadF32(name), `tensor '${name}'`);
  }

  loadF32Into(name: string, out: Float32Array): Float32Array {
    this.check(name);
    if (canReadInto(this.inner)) return this.inner.loadF32Into(name, out);
    const got = this.files.read(this.inner, name, out);
    if (got !== null) return got;
    const data = this.inner.loadF32(name);
    out.set(data);
    return out.subarray(0, data.length);
  }

  close(): void {
    this.files.close();
    this.inner.close?.();
  }

  private check(name: string): void {
    if (!this.members.has(name)) throw new Error(`no tensor named '${name}' in this state dict`);
  }
}
