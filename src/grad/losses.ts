/**
 * Losses as graph ops (float32), to be differentiated with the tower: the zero-shot head of
 * fusion_bench's HFCLIPClassifier and the three losses its gradient methods use.
 */
import type { GraphBuilder } from '../onnx/graph-builder.js';

/** x / ||x|| over the last axis of a [rows, dim] value (`embeds / embeds.norm(p=2, dim=-1, keepdim=True)`). */
export function l2NormalizeRowsGraph(g: GraphBuilder, x: string): string {
  const norm = g.node('Sqrt', [g.node('ReduceSum', [g.node('Mul', [x, x]), g.int64s('last', [-1])], { keepdims: 1 })]);
  return g.node('Div', [x, norm]);
}

/**
 * HFCLIPClassifier's logits: exp(logit_scale) · normalize(image_embeds) @ text_embedsᵀ, where
 * `textEmbeds` [classes, dim] are the zero-shot head's rows, already L2-normalised, and `logitScale` the
 * checkpoint's (log) logit_scale.
 */
export function zeroShotLogits(g: GraphBuilder, imageEmbeds: string, textEmbeds: string, logitScale: number): string {
  const cos = g.node('Gemm', [l2NormalizeRowsGraph(g, imageEmbeds), textEmbeds], { transB: 1 });
  return g.node('Mul', [cos, g.floats('logit_scale_exp', [Math.fround(Math.exp(logitScale))])]);
}

/** Per row: Σ_c onehot[r, c] · log_softmax(logits)[r, c], i.e. the log-likelihood of each row's label ([rows]). */
export function logLikelihoodRows(g: GraphBuilder, logits: string, onehot: string): string {
  const logp = g.node('LogSoftmax', [logits], { axis: -1 });
  return g.node('ReduceSum', [g.node('Mul', [onehot, logp]), g.int64s('last', [-1])], { keepdims: 0 });
}

/**
 * Σ_r w_r · v_r for a per-row value v [rows] and row weights w [rows]: 1/n for the n real rows of a
 * possibly padded batch gives the mean over them (padding rows weigh 0), 1 gives the sum.
 */
export function weightedRows(g: GraphBuilder, v: string, rowWeights: string): string {
  return g.node('ReduceSum', [g.node('Mul', [v, rowWeights])], { keepdims: 0 });
}

/** F.cross_entropy(logits, labels) (mean reduction with weights 1/n); labels as one-hot rows [rows, classes]. Scalar. */
export function crossEntropy(g: GraphBuilder, logits: string, onehot: string, rowWeights: string): string {
  return g.node('Neg', [weightedRows(g, logLikelihoodRows(g, logits, onehot), rowWeights)]);
}

/** AdaMerging's entropy_loss: −Σ p · log(p + eps) over classes, mean over rows (weights 1/n; eps 1e-8). Scalar. */
export function entropyLoss(g: GraphBuilder, logits: string, rowWeights: string, eps = 1e-8): string {
  const p = g.node('Softmax', [logits], { axis: -1 });
  const plogp = g.node('Mul', [p, g.node('Log', [g.node('Add', [p, g.floats('eps', [Math.fround(eps)])])])]);
  return g.node('Neg', [weightedRows(g, g.node('ReduceSum', [plogp, g.int64s('last', [-1])], { keepdims: 0 }), rowWeights)]);
}

/** Σ over rows of w_r × the log-likelihood of each row's label. Scalar. */
export function logLikelihood(g: GraphBuilder, logits: string, onehot: string, rowWeights: string): string {
  return weightedRows(g, logLikelihoodRows(g, logits, onehot), rowWeights);
}

/**
 * fusion_bench's Fisher objective (from MergeLM): Σ_rows Σ_classes √p.detach() · log p, the expected
 * log-likelihood under the model's own predictions with the square root moved inside so that the
 * squared gradient of a batch weighs each class by p. Returns the loss and the value whose gradient
 * must be stopped (√p), to pass to addGradients as `stopGradient`.
 */
export function fisherExpectedLogLikelihood(g: GraphBuilder, logits: string, rowWeights: string): { loss: string; detached: string } {
  const detached = g.node('Sqrt', [g.node('Softmax', [logits], { axis: -1 })]);
  const logp = g.node('LogSoftmax', [logits], { axis: -1 });
  const perRow = g.node('ReduceSum', [g.node('Mul', [detached, logp]), g.int64s('last', [-1])], { keepdims: 0 });
  return { loss: weightedRows(g, perRow, rowWeights), detached };
}
