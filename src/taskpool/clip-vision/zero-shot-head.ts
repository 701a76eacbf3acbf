/**
 * fusion_bench's zero-shot classification head (HFCLIPClassifier.set_classification_task) and logits
 * (HFCLIPClassifier.forward), on row-major float32 arrays.
 */
import { clipLogits, l2NormalizeRows } from '../../models/clip/head.js';
import type { ClipTextSession } from '../../models/clip/session.js';
import { batchToInt64, type CLIPTokenizer } from '../../models/clip/tokenizer.js';
import { classPrompts, type ClipClassificationData } from '../../tasks/clip-classification/index.js';

export interface ZeroShotHead {
  /** [numClasses, dim], each row L2-normalised. */
  readonly weights: Float32Array;
  readonly numClasses: number;
  readonly dim: number;
}

/**
 * Per class: the prompts of every template, tokenized together padded to the longest (`padding=True`),
 * text tower pooled output → text_projection → L2-normalise → mean over templates → L2-normalise.
 * One text-tower run per class, as fusion_bench does, so that each class sees the padding it sees there.
 */
export async function computeZeroShotHead(text: ClipTextSession, tokenizer: CLIPTokenizer, task: ClipClassificationData): Promise<ZeroShotHead> {
  const rows: Float32Array[] = [];
  let dim = 0;
  for (const c of task.classnames) {
    const prompts = classPrompts(task.templates, c);
    const enc = batchToInt64(tokenizer.encodeBatch(prompts, { padding: 'longest' }));
    const out = await text.run(enc.inputIds, prompts.length, enc.attentionMask);
    dim = out.embeds!.length / prompts.length;
    const normed = l2NormalizeRows(out.embeds!, dim);
    const mean = new Float32Array(dim);
    for (let k = 0; k < dim; k++) {
      let s = 0;
      for (let t = 0; t < prompts.length; t++) s += normed[t * dim + k]!;
      mean[k] = s / prompts.length;
    }
    rows.push(l2NormalizeRows(mean, dim));
  }
  const weights = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => weights.set(r, i * dim));
  return { weights, numClasses: rows.length, dim };
}

/**
 * logits_per_image = exp(logit_scale) · normalize(image_embeds) @ Wᵀ, [batch, numClasses]; `imageEmbeds`
 * are the unnormalised projections (get_image_features) of `batch` images.
 */
export function zeroShotLogits(imageEmbeds: Float32Array, head: ZeroShotHead, logitScale: number): Float32Array {
  return clipLogits(l2NormalizeRows(imageEmbeds, head.dim), head.weights, head.dim, logitScale);
}
