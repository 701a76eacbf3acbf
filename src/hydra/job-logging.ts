/**
 * What `hydra.job_logging`, `hydra.verbose` and fusion_bench's `LOG_LEVEL` say about a job's status
 * lines: whether they go to a log file (the config's `logging.FileHandler` and its `filename`), and from
 * which level they are shown. Status lines and progress bars are INFO; a level above INFO (as
 * `hydra/job_logging=disabled`, root level ERROR) keeps a job quiet; DEBUG adds the job's resolved config.
 */
import { UserError } from '../errors.js';
import { isDict, toPlain, type ConfigValue } from '../config/values.js';

export const LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 } as const;
export type LevelName = keyof typeof LEVELS;

export interface JobLogging {
  /** The log file (a FileHandler's `filename` among the root handlers), or null: no file. */
  file: string | null;
  /** The level from which lines are shown (Python's numbers: INFO = 20). */
  level: number;
}

function levelOf(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  const name = String(v).toUpperCase() === 'WARN' ? 'WARNING' : String(v).toUpperCase();
  if (name in LEVELS) return LEVELS[name as LevelName];
  throw new UserError(`${where}: expected one of ${Object.keys(LEVELS).join(', ')}, got ${JSON.stringify(v)}`);
}

/**
 * `jobLogging` is the resolved `hydra.job_logging` node, `verbose` the resolved `hydra.verbose`
 * (true, a logger name or a list of them: DEBUG), `env` the process environment (LOG_LEVEL wins).
 */
export function jobLoggingOf(jobLogging: ConfigValue | undefined, verbose: ConfigValue | undefined, env: NodeJS.ProcessEnv): JobLogging {
  const node = isDict(jobLogging) ? (toPlain(jobLogging) as Record<string, unknown>) : {};
  const root = node.root as { level?: unknown; handlers?: unknown } | null | undefined;
  const handlers = (node.handlers ?? {}) as Record<string, { class?: unknown; filename?: unknown }>;
  let file: string | null = null;
  if (root && Array.isArray(root.handlers)) {
    for (const h of root.handlers) {
      const spec = handlers[String(h)];
      if (spec && spec.class === 'logging.FileHandler' && typeof spec.filename === 'string') file = spec.filename;
    }
  }
  // Python's root logger is at WARNING unless configured otherwise (job_logging=none gives root: null)
  let level = root?.level !== undefined && root?.level !== null ? levelOf(root!.level, 'hydra.job_logging.root.level') : LEVELS.WARNING;
  const v = toPlain((verbose ?? false) as ConfigValue);
  if (v === true || (typeof v === 'string' && v !== '') || (Array.isArray(v) && v.length > 0)) level = LEVELS.DEBUG;
  const fromEnv = env.LOG_LEVEL;
  if (fromEnv !== undefined && fromEnv.trim() !== '') level = levelOf(fromEnv.trim(), 'the LOG_LEVEL environment variable');
  return { file, level };
}

/** The status stream as the level allows: INFO lines pass at INFO and below, nothing above. */
export function atLevel(stream: NodeJS.WritableStream, level: number): NodeJS.WritableStream | null {
  return level <= LEVELS.INFO ? stream : null;
}
