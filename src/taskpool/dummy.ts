import { UserError } from '../errors.js';
import type { TaskPool } from './types.js';

/**
 * fusion_bench's DummyTaskPool: evaluates nothing and reports the model's parameter counts.
 * `model_save_path` is accepted so fusion_bench configs load; the merged model is saved with the
 * program's `merged_model_save_path`, which writes through the model pool (config.json + safetensors).
 */
export class DummyTaskPool implements TaskPool {
  readonly model_save_path: string | null;
  constructor(opts: { model_save_path?: string | null } = {}) {
    const p = opts.model_save_path ?? null;
    if (p !== null && typeof p !== 'string') throw new UserError(`taskpool.model_save_path must be a path or null, got ${JSON.stringify(p)}`);
    this.model_save_path = p;
  }

  async evaluate(model: unknown): Promise<Record<string, unknown>> {
    const report: Record<string, unknown> = {};
    const m = model as { stateDict?: { names(): readonly string[]; info(n: string): { shape: readonly number[] } } };
    if (m?.stateDict) {
      let params = 0;
      for (const n of m.stateDict.names()) params += m.stateDict.info(n).shape.reduce((a, b) => a * b, 1);
      report.model_info = { trainable_params: params, all_params: params, trainable_percentage: 1.0 };
    }
    return report;
  }
}
