/**
 * The two spellings of a CLIPVisionModel's tensor names. transformers < 5 nests the tower under
 * `vision_model` (`vision_model.encoder.layers.0…`); transformers ≥ 5 flattens CLIPVisionModel, so the
 * checkpoints it saves name the same tensors without that prefix (fusion_bench's
 * `VISION_MODEL_PREFIX`). Inside fusion-bench a vision model always uses the prefixed names; the
 * bare ones are translated where checkpoints are read and written.
 */
import type { StateDict } from '../tensor/types.js';
import { SubsetStateDict } from './subset-state-dict.js';

export const VISION_PREFIX = 'vision_model.';

/** The CLIPVisionTransformer's children: what a bare-spelled checkpoint's names start with. */
const BARE_ROOTS = ['embeddings.', 'pre_layrnorm.', 'encoder.', 'post_layernorm.'];

export type VisionKeySpelling = 'prefixed' | 'bare';

export interface VisionTensorNames {
  spelling: VisionKeySpelling;
  /** Our (prefixed) names. */
  names: string[];
  /** The same tensors' names in the checkpoint. */
  fileNames: string[];
}

/**
 * The vision tower's tensors among a checkpoint's `names` (those `keep` accepts), in whichever
 * spelling the file uses; the prefixed one wins in a file that has both. Null when there are none.
 */
export function visionTensorNames(names: readonly string[], keep: (name: string) => boolean): VisionTensorNames | null {
  const prefixed = names.filter((n) => n.startsWith(VISION_PREFIX) && keep(n));
  if (prefixed.length > 0) return { spelling: 'prefixed', names: prefixed, fileNames: prefixed };
  const bare = names.filter((n) => BARE_ROOTS.some((r) => n.startsWith(r)) && keep(n));
  if (bare.length === 0) return null;
  return { spelling: 'bare', names: bare.map((n) => VISION_PREFIX + n), fileNames: bare };
}

/** `stateDict` with its `vision_model.*` tensors named as `spelling` writes them (other names unchanged). */
export function spelledForSaving(stateDict: StateDict, spelling: VisionKeySpelling): StateDict {
  if (spelling === 'prefixed') return stateDict;
  const inner = stateDict.names();
  const outer = inner.map((n) => (n.startsWith(VISION_PREFIX) ? n.slice(VISION_PREFIX.length) : n));
  return new SubsetStateDict(stateDict, outer, inner);
}
