/**
 * fusion_bench's per-task metrics: torchmetrics' multiclass Accuracy (micro: correct / total over all
 * images, prediction = first argmax) and the loss as a MeanMetric over per-batch `F.cross_entropy` means,
 * i.e. the unweighted average of batch means (a short last batch counts as much as a full one).
 * Cross-entropy is computed in float64 from the float32 logits.
 */
import { UserError } from '../../errors.js';

export interface TaskResult {
  accuracy: number;
  loss: number;
}

export class ClassificationMetrics {
  private correct = 0;
  private total = 0;
  private lossSum = 0;
  private batches = 0;

  constructor(readonly numClasses: number, private readonly what: string) {}

  /**
   * `logits` [count, numClasses] row-major; `labels[k]` is row `firstRow + k` of the data set (named in
   * errors).
   */
  update(logits: Float32Array, labels: Int32Array, firstRow: number): void {
    const c = this.numClasses;
    const n = labels.length;
    if (logits.length !== n * c) throw new Error(`metrics: ${logits.length} logits for ${n} labels × ${c} classes`);
    let ce = 0;
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      if (!(y >= 0 && y < c)) {
        throw new UserError(`${this.what} row ${firstRow + i}: label ${y} is outside the task's ${c} classes (0..${c - 1}); is the task name right for this data set?`);
      }
      const o = i * c;
      let max = -Infinity;
      let arg = 0;
      for (let j = 0; j < c; j++) {
        const v = logits[o + j]!;
        // torch.argmax takes the first NaN as the maximum (a merge that overflowed predicts that class)
        if (Number.isNaN(v)) {
          max = v;
          arg = j;
          break;
        }
        if (v > max) {
          max = v;
          arg = j;
        }
      }
      let s = 0;
      for (let j = 0; j < c; j++) s += Math.exp(logits[o + j]! - max);
      ce += max + Math.log(s) - logits[o + y]!;
      if (arg === y) this.correct++;
    }
    this.total += n;
    if (n > 0) {
      this.lossSum += ce / n;
      this.batches++;
    }
  }

  get images(): number {
    return this.total;
  }

  /** NaN for an empty data set (torchmetrics reports nan there too). */
  result(): TaskResult {
    return {
      accuracy: this.total > 0 ? this.correct / this.total : NaN,
      loss: this.batches > 0 ? this.lossSum / this.batches : NaN,
    };
  }
}
