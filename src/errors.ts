/**
 * An error caused by the user's input (a config, an override, a file, a model): the command prints its
 * message alone, without a stack trace, and exits non-zero. Anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
