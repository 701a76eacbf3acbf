/**
 * What a method returns when its result is not one model: one model per task (TALL masks, EMR), or an
 * ensemble of members whose outputs are combined. The program, the task pools and the saver recognise
 * these types (never dicts by their shape).
 */
import { UserError } from '../errors.js';
import type { Model } from '../modelpool/model.js';

/**
 * One model per task, built on demand from what is held once (a shared vector plus per-task masks or
 * modulators, not N full models). `evaluation` says how fusion_bench reports it:
 * - `own-task` (EMR): each task is evaluated with its own model, one report of the usual shape;
 * - `every-task` (TALL masks): each task's model is evaluated on every task, under `models`;
 * - `each-model` (TSV-M's return_single_task_models, a dict of models in fusion_bench): each named model
 *   evaluated on every task, one report entry per name.
 */
export class PerTaskModels {
  readonly kind = 'per-task-models';

  constructor(
    readonly tasks: readonly string[],
    private readonly build: (task: string) => Model,
    readonly evaluation: 'own-task' | 'every-task' | 'each-model',
    private readonly onClose?: () => void,
  ) {}

  /** Task `task`'s model (a lazy state dict over the shared data; closing it frees nothing shared). */
  model(task: string): Model {
    if (!this.tasks.includes(task)) {
      throw new UserError(`no model for task '${task}': the method produced models for ${this.tasks.map((t) => `'${t}'`).join(', ')}; the task pool's task names must be the model pool's model names`);
    }
    return this.build(task);
  }

  close(): void {
    this.onClose?.();
  }
}

/** How an ensemble combines its members' outputs (fusion_bench's ensemble modules). */
export type EnsembleCombine = 'mean' | 'weighted' | 'max-model';

/** Members evaluated together: one session each, outputs combined per `combine`. */
export class Ensemble {
  readonly kind = 'ensemble';

  constructor(
    readonly members: readonly { readonly name: string; readonly model: Model }[],
    readonly combine: EnsembleCombine,
    /** Per member, for `weighted` (already normalised where the method asks for it). */
    readonly weights: readonly number[] | null,
    private readonly onClose?: () => void,
  ) {}

  close(): void {
    this.onClose?.();
  }
}

export type MergeResult = PerTaskModels | Ensemble;

export function isPerTaskModels(v: unknown): v is PerTaskModels {
  return v instanceof PerTaskModels;
}

export function isEnsemble(v: unknown): v is Ensemble {
  return v instanceof Ensemble;
}
