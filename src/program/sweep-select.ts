import { UserError } from '../errors.js';
import { parseOverride } from '../config/overrides/index.js';
import { isDict, toPlain, type ConfigDict, type ConfigValue } from '../config/values.js';

/**
 * The `sweep` node of a job config: how a sweep chooses its best job and what it does with it.
 *
 *   sweep.select: auto | best | none     auto (default): choose when the task pool holds validation
 *                                        splits; best: always; none: never
 *   sweep.evaluate_best_with: {key: value, …} or [override, …]
 *                                        after the sweep, run the chosen job once more with these
 *                                        overrides (e.g. {taskpool: …_TA8} for the test sets), in
 *                                        <sweep dir>/best
 */
export interface SelectOptions {
  select: 'auto' | 'best' | 'none';
  evaluateBestWith: string[];
}

const KEYS = ['select', 'evaluate_best_with'];

export function selectOptionsOf(node: ConfigValue | undefined): SelectOptions {
  const out: SelectOptions = { select: 'auto', evaluateBestWith: [] };
  if (node === undefined || node === null) return out;
  if (!isDict(node)) throw new UserError(`sweep: expected a mapping with ${KEYS.join(', ')}, got ${JSON.stringify(toPlain(node))}`);
  for (const k of Object.keys(node)) {
    if (!KEYS.includes(k)) throw new UserError(`sweep.${k}: unknown option; sweep takes ${KEYS.join(', ')}`);
  }
  const sel = node.select;
  if (sel !== undefined && sel !== null) {
    if (sel !== 'auto' && sel !== 'best' && sel !== 'none') throw new UserError(`sweep.select: expected auto, best or none, got ${JSON.stringify(toPlain(sel))}`);
    out.select = sel;
  }
  const ev = node.evaluate_best_with;
  if (ev !== undefined && ev !== null) {
    if (isDict(ev)) out.evaluateBestWith = Object.entries(ev).map(([k, v]) => `${k}=${overrideText(v, k)}`);
    else if (Array.isArray(ev) && ev.every((x) => typeof x === 'string')) out.evaluateBestWith = ev as string[];
    else throw new UserError(`sweep.evaluate_best_with: expected a mapping {key: value} or a list of overrides, got ${JSON.stringify(toPlain(ev))}`);
    for (const o of out.evaluateBestWith) {
      const p = parseOverride(o);
      if (p.isSweep()) throw new UserError(`sweep.evaluate_best_with: '${o}' is a sweep; give one value`);
    }
    if (out.select === 'none') throw new UserError('sweep.evaluate_best_with needs a selected job, but sweep.select is none');
  }
  return out;
}

function overrideText(v: ConfigValue, key: string): string {
  const p = toPlain(v);
  if (p === null) return 'null';
  if (typeof p === 'string' || typeof p === 'number' || typeof p === 'boolean') return String(p);
  throw new UserError(`sweep.evaluate_best_with.${key}: expected a single value, got ${JSON.stringify(p)}`);
}

/**
 * Whether a job evaluates on validation data: its task pool option is named `…_val`/`…/val…`, or a
 * test dataset of the task pool is a train/validation split returning the validation part.
 */
export function isValidationTaskPool(job: ConfigDict | null, choices: Record<string, string | null>): boolean {
  const choice = choices.taskpool;
  if (typeof choice === 'string' && /(^|[_/-])val(idation)?($|[_/-])/.test(choice)) return true;
  const tp = job?.taskpool;
  if (!isDict(tp) || !isDict(tp.test_datasets)) return false;
  return Object.values(tp.test_datasets).some(
    (d) => isDict(d) && typeof d._target_ === 'string' && d._target_.endsWith('train_validation_split') && (d.return_split === 'val' || d.return_split === undefined),
  );
}

/**
 * The chosen job's overrides with `extra` applied: the same key is replaced in place (keeping a `+` the
 * job needed to add the key, so `x=2` replaces `+x=1` by `+x=2`), new keys are appended.
 */
export function withOverrides(base: readonly string[], extra: readonly string[]): string[] {
  const prefixOf = (s: string) => /^\+*/.exec(parseOverride(s).keyElement)![0];
  const keyOf = (s: string) => parseOverride(s).keyElement.replace(/^\+\+?/, '');
  const out = [...base];
  for (const e of extra) {
    const k = keyOf(e);
    const i = out.findIndex((o) => keyOf(o) === k);
    if (i < 0) out.push(e);
    else out[i] = prefixOf(e) === '' && prefixOf(out[i]) !== '' ? prefixOf(out[i]) + e : e;
  }
  return out;
}
