import { UserError } from '../errors.js';

/**
 * Errors raised while composing a config. Each keeps the fully qualified name of the Python exception Hydra
 * raises in the same situation (`hydraClass`), so conformance tests and error reports can name it, and
 * keeps the underlying error as `cause` (Hydra's `raise ... from ex`).
 */
export class HydraError extends UserError {
  override name = 'HydraError';
  readonly hydraClass: string;
  constructor(hydraClass: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.hydraClass = hydraClass;
  }
}

/** hydra.errors.ConfigCompositionException */
export class ConfigCompositionError extends HydraError {
  override name = 'ConfigCompositionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('hydra.errors.ConfigCompositionException', message, options);
  }
}

/** hydra.errors.MissingConfigException: a config or group option that is not on the search path. */
export class MissingConfigError extends HydraError {
  override name = 'MissingConfigError';
  readonly missingConfig: string | null;
  readonly options: string[] | null;
  constructor(message: string, missingConfig: string | null, options: string[] | null = null) {
    super('hydra.errors.MissingConfigException', message);
    this.missingConfig = missingConfig;
    this.options = options;
  }
}

/** A malformed defaults list or config file; Hydra raises a plain ValueError for these. */
export class DefaultsListValueError extends HydraError {
  override name = 'DefaultsListValueError';
  constructor(message: string) {
    super('ValueError', message);
  }
}

/**
 * The Python class name an error stands for: Hydra's (`hydraClass`), OmegaConf's (`omegaconfClass`), the
 * override parser's (`hydraClass` too), or the JavaScript name.
 */
export function pythonErrorClass(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { hydraClass?: unknown; omegaconfClass?: unknown; errorClass?: unknown; name?: unknown };
    for (const k of [o.hydraClass, o.omegaconfClass, o.errorClass]) if (typeof k === 'string') return k;
    if (o.name === 'OverrideParseError') return 'hydra.errors.OverrideParseException';
    if (typeof o.name === 'string') return o.name;
  }
  return typeof e;
}
