import { isUserError } from '../errors.js';
import { pythonErrorClass } from '../config/hydra-errors.js';
import type { ConfigDict } from '../config/values.js';

export type JobStatus = 'completed' | 'failed' | 'reused';

/** Hydra's JobReturn: how one job of a run or a sweep ended. */
export interface JobOutcome {
  num: number;
  /** The job's overrides as launched (Hydra's JobReturn.overrides, hydra.* ones left out). */
  overrides: string[];
  status: JobStatus;
  /** One line (or a few) saying why the job failed. */
  error: string | null;
  /** What was thrown, for a single run to re-raise (Hydra's `return_value` of a failed job). */
  exception?: unknown;
  outputDir: string;
  reportPath: string | null;
  report: unknown;
  /** The resolved job config (no hydra node), null where the job failed before resolving. */
  job: ConfigDict | null;
  /** hydra.runtime.choices of the job. */
  choices: Record<string, string | null>;
  seconds: number;
}

/** The message a summary keeps for a failed job: the error and its causes, without stacks. */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    const err = cur as Error;
    const text = String(err.message ?? err);
    const msg = isUserError(cur) ? text : `${pythonErrorClass(err)}: ${text}`;
    if (!parts.some((p) => p.includes(msg))) parts.push(msg);
    cur = err.cause;
  }
  return parts.join('\n');
}
