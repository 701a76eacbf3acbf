/**
 * What a model pool hands to a merging method and what a method returns: a lazy state dict plus the
 * model's config.json (or null for a bare checkpoint). Stands in for fusion_bench's `nn.Module`.
 */
import type { StateDict } from '../tensor/types.js';

export type ModelConfig = Record<string, unknown>;

export interface Model {
  readonly stateDict: StateDict;
  /** The parsed config.json (for a CLIP vision pool: a complete CLIPVisionConfig), or null. */
  readonly config: ModelConfig | null;
  /** Where it came from (a directory, a repo id, or a description such as "merged by TaskArithmeticAlgorithm"). */
  readonly source: string;
}

/** True for an already-built Model (fusion_bench's pools also accept instantiated modules). */
export function isModel(v: unknown): v is Model {
  if (typeof v !== 'object' || v === null) return false;
  const sd = (v as { stateDict?: unknown }).stateDict;
  return typeof sd === 'object' && sd !== null && typeof (sd as StateDict).loadF32 === 'function' && typeof (sd as StateDict).names === 'function';
}
