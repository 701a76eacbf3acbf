import { UserError } from '../../errors.js';

/** OmegaConf's exception classes that fusion-bench reproduces (names as in `omegaconf.errors`). */
export type OmegaConfErrorClass =
  | 'ConfigAttributeError'
  | 'ConfigKeyError'
  | 'ConfigTypeError'
  | 'ConfigIndexError'
  | 'ValidationError'
  | 'MissingMandatoryValue'
  | 'InterpolationResolutionError'
  | 'InterpolationKeyError'
  | 'InterpolationToMissingValueError'
  | 'UnsupportedInterpolationType'
  | 'GrammarParseError'
  | 'YAMLError';

/**
 * An error OmegaConf would raise. `message` is OmegaConf's text (for key errors it ends with the
 * `full_key:` / `object_type=` lines OmegaConf appends); `msg` is the first part alone, and
 * `omegaconfClass` the Python class name so Hydra-level code can report the cause chain.
 */
export class OmegaConfError extends UserError {
  override name = 'OmegaConfError';
  readonly omegaconfClass: string;
  readonly msg: string;
  readonly fullKey: string | undefined;
  readonly objectType: string | undefined;

  constructor(
    cls: OmegaConfErrorClass,
    msg: string,
    opts: { fullKey?: string; objectType?: string; cause?: unknown } = {},
  ) {
    let message = msg;
    if (opts.fullKey !== undefined) message += `\n    full_key: ${opts.fullKey}`;
    if (opts.objectType !== undefined) message += `\n    object_type=${opts.objectType}`;
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.omegaconfClass = cls === 'YAMLError' ? 'yaml.YAMLError' : `omegaconf.errors.${cls}`;
    this.msg = msg;
    this.fullKey = opts.fullKey;
    this.objectType = opts.objectType;
  }

  /** The short class name, e.g. `ConfigKeyError`. */
  get className(): string {
    return this.omegaconfClass.slice(this.omegaconfClass.lastIndexOf('.') + 1);
  }
}

export function isOmegaConfError(e: unknown, cls?: OmegaConfErrorClass): e is OmegaConfError {
  return e instanceof OmegaConfError && (cls === undefined || e.className === cls);
}

/** InterpolationResolutionError and its subclasses, as Python's class hierarchy has them. */
export function isResolutionError(e: unknown): e is OmegaConfError {
  return (
    e instanceof OmegaConfError &&
    ['InterpolationResolutionError', 'InterpolationKeyError', 'InterpolationToMissingValueError', 'UnsupportedInterpolationType', 'GrammarParseError'].includes(
      e.className,
    )
  );
}
