/**
 * The fuzz harness: targets, the invariant every target checks, and a runner shared by the command line
 * (`npm run fuzz -- <target>`) and the test suite (a fixed seed and a fixed number of inputs).
 *
 * The invariant: feeding any input ends with a result or with one UserError (the error users see, with
 * no stack) — never another exception, a RangeError from the JS stack, a hang, or memory out of
 * proportion to the input. Time and memory are watched by the command line only; tests never time.
 */
import fc from 'fast-check';
import { isUserError } from '../src/errors.js';

export interface FuzzTarget<T = unknown> {
  name: string;
  /** Which parser(s) the inputs reach, and from where. */
  description: string;
  /** Inputs: the test fixtures mutated, and structure-aware generators for what mutation rarely finds. */
  arbitrary(): fc.Arbitrary<T>;
  /** Feeds one input to the parser; returns normally or throws. */
  run(input: T): void | Promise<void>;
  /** The input in a report (short). */
  show(input: T): string;
}

export type Outcome = { kind: 'ok' } | { kind: 'user-error'; message: string };

/** A broken invariant: the message holds the input and what happened. */
export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

/** Errors that may only reach users through a JS limit, not through a check of ours. */
const JS_LIMITS = /Maximum call stack size exceeded|Array buffer allocation failed/;

/** The message of an error and of its causes (Hydra's wrappers keep the detail in the cause). */
function fullMessage(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error && parts.length < 10; c = c.cause) parts.push(c.message);
  return parts.join('\n');
}

/** Runs one input and classifies the result; anything but a result or a clean UserError is a violation. */
export async function checkOne<T>(target: FuzzTarget<T>, input: T): Promise<Outcome> {
  try {
    await target.run(input);
    return { kind: 'ok' };
  } catch (e) {
    if (isUserError(e)) {
      const message = fullMessage(e);
      if (message.trim() === '') throw new InvariantViolation(`${target.name}: a UserError without a message for ${target.show(input)}`);
      if (JS_LIMITS.test(message)) throw new InvariantViolation(`${target.name}: a UserError that only passes on a JS limit (${message.split('\n')[0]}) for ${target.show(input)}`);
      return { kind: 'user-error', message };
    }
    const err = e as Error | undefined;
    throw new InvariantViolation(`${target.name}: ${target.show(input)} threw ${err?.stack ?? String(e)}`);
  }
}

export interface RunOptions {
  seed: number;
  /** Inputs to try (the test suite's budget). */
  numRuns?: number;
  /** Or a time budget in seconds (the command line's). */
  seconds?: number;
  /** Called after each input with its outcome and cost. */
  onInput?: (outcome: Outcome, ms: number, rssGrowthMb: number) => void;
}

export interface RunSummary {
  runs: number;
  ok: number;
  userErrors: number;
}

/**
 * Feeds the target `numRuns` inputs (or as many as fit in `seconds`) from fast-check with `seed`.
 * Throws fast-check's report (seed, path, shrunk input) when the invariant breaks.
 */
export async function runTarget<T>(target: FuzzTarget<T>, opts: RunOptions): Promise<RunSummary> {
  const summary: RunSummary = { runs: 0, ok: 0, userErrors: 0 };
  const property = fc.asyncProperty(target.arbitrary(), async (input) => {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const outcome = await checkOne(target, input);
    summary.runs++;
    if (outcome.kind === 'ok') summary.ok++;
    else summary.userErrors++;
    opts.onInput?.(outcome, performance.now() - t0, (process.memoryUsage().rss - rss0) / 2 ** 20);
  });
  const params: fc.Parameters<[T]> = { seed: opts.seed, numRuns: opts.numRuns ?? 100, endOnFailure: false, includeErrorInReport: true };
  if (opts.seconds !== undefined) {
    params.numRuns = Number.MAX_SAFE_INTEGER;
    params.interruptAfterTimeLimit = opts.seconds * 1000;
    params.markInterruptAsFailure = false;
  }
  await fc.assert(property, params);
  return summary;
}

/**
 * Runs every step even when one ends in a UserError (so one bad part of an input does not hide the
 * parsers after it); rethrows the first UserError at the end, and anything else at once.
 */
export async function steps(...fns: Array<() => unknown>): Promise<void> {
  let first: unknown = null;
  for (const fn of fns) {
    try {
      await fn();
    } catch (e) {
      if (!isUserError(e)) throw e;
      first ??= e;
    }
  }
  if (first !== null) throw first;
}
