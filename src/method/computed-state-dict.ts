/**
 * The merged model: a state dict whose `loadF32` computes the tensor from the source models each time
 * it is asked (nothing is cached, so writing it streams with a few tensors in memory).
 */
import { encodeFromF32 } from '../tensor/dtype.js';
import type { StateDict, TensorInfo } from '../tensor/types.js';

export interface ComputedStateDictSpec {
  readonly names: readonly string[];
  readonly info: (name: string) => TensorInfo;
  readonly compute: (name: string) => Float32Array;
  /** Stored bytes for tensors passed through unchanged (integer buffers), where the source has them. */
  readonly raw?: (name: string) => Uint8Array | undefined;
  readonly onClose?: () => void;
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
