import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.js';

/** The message of an error and its causes, as the command line shows them. */
export function fullMessage(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error && parts.length < 10; c = c.cause) parts.push(c.message);
  return parts.join('\n');
}

/** Asserts that `fn` ends in one UserError whose message (with its causes) matches every pattern. */
export async function failsWithUserError(fn: () => unknown, ...patterns: RegExp[]): Promise<string> {
  let caught: unknown = undefined;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, 'expected a UserError, got a result');
  assert.ok(isUserError(caught), `expected a UserError, got ${(caught as Error)?.stack ?? String(caught)}`);
  const message = fullMessage(caught);
  assert.doesNotMatch(message, /Maximum call stack size exceeded/);
  for (const p of patterns) assert.match(message, p);
  return message;
}

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-fuzz-reg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
