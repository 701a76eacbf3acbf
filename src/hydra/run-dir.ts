/**
 * The pieces of Hydra's run_job: the record written to the run directory, `hydra.job.env_set`, and the
 * log file the status lines are copied to.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { ensureDir } from '../util/ensure-dir.js';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { AppIO } from './io.js';
import { toYaml } from '../config/omegaconf/dump.js';
import { isDict, toPlain, type ConfigDict, type ConfigValue } from '../config/values.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/** A node the composed config must have (the hydra node and its parts); missing means a bug in composition. */
export function dictAt(v: ConfigValue | undefined, what: string): ConfigDict {
  if (!isDict(v)) throw new Error(`composed config has no ${what}`);
  return v;
}

/** The config without its `hydra` node: what the job sees. */
export function jobPart(config: ConfigDict): ConfigDict {
  const job: ConfigDict = {};
  for (const k of Object.keys(config)) if (k !== 'hydra') job[k] = config[k];
  return job;
}

/** `config.yaml`, `hydra.yaml` and `overrides.yaml` in `dir` (hydra.output_subdir), unresolved, as Hydra writes them. */
export function writeRunRecord(dir: string, config: ConfigDict, hydra: ConfigDict, taskOverrides: readonly ConfigValue[]): void {
  ensureDir(dir, 'the run record folder (hydra.output_subdir)');
  writeFileAtomic(join(dir, 'config.yaml'), toYaml(jobPart(config)));
  writeFileAtomic(join(dir, 'hydra.yaml'), toYaml({ hydra }));
  writeFileAtomic(join(dir, 'overrides.yaml'), toYaml([...taskOverrides]));
}

/** Sets `hydra.job.env_set` (resolved) in process.env; returns what puts the previous values back. */
export function applyEnvSet(envSet: ConfigValue | undefined): () => void {
  const before = new Map<string, string | undefined>();
  if (isDict(envSet)) {
    for (const [k, v] of Object.entries(envSet)) {
      if (v === null) continue;
      before.set(k, process.env[k]);
      process.env[k] = String(toPlain(v));
    }
  }
  return () => {
    for (const [k, v] of before) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * The status stream: stderr and the run's log file. It is a terminal when stderr is one, so progress bars
 * redraw in place there; the log gets each bar's final state only, never the carriage-return redraws.
 */
export function tee(term: NodeJS.WritableStream, log: NodeJS.WritableStream): NodeJS.WritableStream {
  const t = term as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  let redraw: string | null = null;
  return {
    get isTTY() {
      return t.isTTY === true;
    },
    get columns() {
      return t.columns;
    },
    write(chunk: string | Uint8Array) {
      term.write(chunk);
      const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (s.startsWith('\r')) {
        redraw = s.slice(1).replace(/\x1b\[K$/, '');
      } else if (s === '\n' && redraw !== null) {
        log.write(redraw + '\n');
        redraw = null;
      } else {
        log.write(chunk);
      }
      return true;
    },
  } as unknown as NodeJS.WritableStream;
}

/**
 * Opens the job's log file (`path`, the job_logging FileHandler's `filename`); the job's status stream is
 * stderr + that file (`status`), or stderr alone without a file. The file is opened here, synchronously,
 * so a bad path is a clear error before the job starts.
 */
export function openJobLog(path: string | null, jobName: string, io: Pick<AppIO, 'stderr'>): { log: WriteStream | null; status: NodeJS.WritableStream } {
  if (path === null) return { log: null, status: io.stderr };
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new UserError(`cannot open the log file ${path} (hydra.job.name '${jobName}' under the run directory): ${(e as Error).message}`, { cause: e });
  }
  const log = createWriteStream(path, { fd });
  log.on('error', (e) => io.stderr.write(`warning: writing the log file ${path} failed: ${e.message}\n`));
  return { log, status: tee(io.stderr, log) };
}
