/**
 * Outputs never overwrite inputs: a merged model saved into a pool model's folder, or a report written
 * over an input's config.json, would destroy the input (and the next run would silently merge the wrong
 * weights). An output path that is, contains or lies inside an input model or data set path — compared
 * after resolving symlinks — is refused before anything is written.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** The real path of `p`, also for a path that does not exist yet (its deepest existing ancestor resolved). */
export function realPath(p: string): string {
  const abs = resolve(p);
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return resolve(realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return abs;
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

function within(inner: string, outer: string): boolean {
  const r = relative(outer, inner);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

export interface InputPath {
  /** What the input is, for the message (`model '_pretrained_'`, `taskpool data set 'mnist'`). */
  what: string;
  path: string;
}

/** Throws when `output` (the `key` option) is, contains or lies inside one of the inputs that exist on disk. */
export function refuseOverwritingInputs(key: string, output: string, inputs: readonly InputPath[]): void {
  const out = realPath(output);
  for (const input of inputs) {
    if (!existsSync(input.path)) continue;
    const inp = realPath(input.path);
    if (within(out, inp) || within(inp, out)) {
      const how = out === inp ? 'is' : within(out, inp) ? 'lies inside' : 'contains';
      throw new UserError(`${key}: ${output} ${how} the input ${input.what} (${input.path}); writing there would destroy it. Choose an output path outside every input.`);
    }
  }
}
