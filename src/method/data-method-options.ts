/**
 * Options that fusion_bench's data-driven methods (RegMean, Fisher merging) share, read one way:
 * `exclude_param_names_regex` (Python's `re.match`: anchored at the start only) and
 * `dataloader_kwargs.batch_size`.
 */
import { UserError } from '../errors.js';
import { Params } from './params.js';

/** One matcher per pattern, as `re.match` applies it; a pattern JavaScript cannot compile is the user's error. */
export function excludeMatchers(method: string, patterns: readonly string[]): RegExp[] {
  return patterns.map((r) => {
    try {
      return new RegExp(`^(?:${r})`);
    } catch (e) {
      throw new UserError(`${method}: exclude_param_names_regex entry ${JSON.stringify(r)} is not a valid regular expression (${(e as Error).message})`);
    }
  });
}

/** `dataloader_kwargs.batch_size` (default 32); the other DataLoader keys have no meaning here and are accepted. */
export function dataloaderBatchSize(method: string, dl: unknown): number {
  if (typeof dl !== 'object' || dl === null || Array.isArray(dl)) throw new UserError(`${method}: option 'dataloader_kwargs' must be a mapping, got ${JSON.stringify(dl)}`);
  const bs = new Params(dl as Record<string, unknown>, `${method}: dataloader_kwargs`).number('batch_size', { dflt: 32, min: 1 });
  if (!Number.isSafeInteger(bs)) throw new UserError(`${method}: dataloader_kwargs.batch_size must be an integer, got ${bs}`);
  return bs;
}
