/**
 * The merged model: a state dict whose `loadF32` computes the tensor from the source models each time
 * it is asked (nothing is cached, so writing it streams with a few tensors in memory).
 */
import { encodeFromF32 } from '../tensor/dtype.js';
import type { WriteBehind } from '../tensor/safetensors-write.js';
import type { StateDict, TensorInfo } from '../tensor/types.js';

export interface ComputedStateDictSpec {
  readonly names: readonly string[];
  readonly info: (name: string) => TensorInfo;
  /**
   * The merged tensor. With `out`, a method may compute into that buffer (the writer reuses one buffer
   * for every tensor, sparing the page faults of fresh memory); it returns where the values are.
   */
  readonly compute: (name: string, out?: Float32Array) => Float32Array;
  /** Stored bytes for tensors passed through unchanged (integer buffers), where the source has them. */
  readonly raw?: (name: string) => Uint8Array | undefined;
  readonly onClose?: () => void;
  /** Where the merge can write its lent buffers on another thread (see safetensors-write's WriteBehind). */
  readonly writeBehind?: () => WriteBehind;
}

export class ComputedStateDict implements StateDict {
  private readonly members: ReadonlySet<string>;
  private closed = false;

  constructor(private readonly spec: ComputedStateDictSpec) {
    this.members = new Set(spec.names);
  }

  names(): readonly string[] {
    return this.spec.names;
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  info(name: string): TensorInfo {
    this.check(name);
    return this.spec.info(name);
  }

  loadF32(name: string): Float32Array {
    this.check(name);
    return this.spec.compute(name);
  }

  /** The merged tensor in the caller's buffer (at least numel values long); returns the view of them. */
  loadF32Into(name: string, out: Float32Array): Float32Array {
    this.check(name);
    const got = this.spec.compute(name, out);
    if (got.buffer === out.buffer && got.byteOffset === out.byteOffset) return got;
    out.set(got);
    return out.subarray(0, got.length);
  }

  /**
   * The merged tensor wherever the merge computed it (its own buffers, or `out`), valid until the next
   * read: a writer that only copies it out saves a copy into its own buffer.
   */
  loadF32Transient(name: string, out: Float32Array): Float32Array {
    this.check(name);
    return this.spec.compute(name, out);
  }

  /** A write-behind where the merge has one (a writer asks; see WriteBehind), else writes stay the writer's. */
  get writeBehind(): (() => WriteBehind) | undefined {
    return this.spec.writeBehind;
  }

  loadRaw(name: string): Uint8Array {
    this.check(name);
    return this.spec.raw?.(name) ?? encodeFromF32(this.spec.info(name).dtype, this.spec.compute(name), `merged tensor '${name}'`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.spec.onClose?.();
  }

  private check(name: string): void {
    if (this.closed) throw new Error(`merged state dict used after close() (tensor '${name}')`);
    if (!this.members.has(name)) throw new Error(`no tensor named '${name}' in the merged state dict`);
  }
}
