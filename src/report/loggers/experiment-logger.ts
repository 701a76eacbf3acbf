/**
 * Lightning's experiment loggers as fusion_bench configs name them under `fabric.loggers`
 * (`lightning.fabric.loggers.TensorBoardLogger`, `…CSVLogger`): a run's metrics — each task's accuracy and
 * loss and their average — go to `root_dir/name/version`, as Lightning lays them out.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { ensureDir } from '../../util/ensure-dir.js';
import { writeMetricsCsv } from './csv.js';
import { writeEventFile } from './tensorboard.js';

export interface ExperimentLogger {
  /** Scalars at a step (kept until finalize writes them). */
  logMetrics(scalars: Record<string, number>, step: number): void;
  /** Writes what was logged; returns the files written. */
  finalize(): string[];
  readonly logDir: string;
}

interface LoggerOptions {
  root_dir?: unknown;
  name?: unknown;
  version?: unknown;
  sub_dir?: unknown;
  [key: string]: unknown;
}

/** Lightning's `version`: a string as is, an int as `version_<n>`, null the next free `version_<n>`. */
function versionDir(parent: string, version: unknown, where: string): string {
  if (typeof version === 'string') return version;
  if (typeof version === 'number' && Number.isInteger(version)) return `version_${version}`;
  if (version !== null && version !== undefined) throw new UserError(`${where}.version: expected a string, an integer or null, got ${JSON.stringify(version)}`);
  let next = 0;
  try {
    for (const d of readdirSync(parent)) {
      const m = /^version_(\d+)$/.exec(d);
      if (m) next = Math.max(next, Number(m[1]) + 1);
    }
  } catch {
    // no folder yet: version_0
  }
  return `version_${next}`;
}

function logDirOf(o: LoggerOptions, where: string): string {
  if (typeof o.root_dir !== 'string' || o.root_dir === '') throw new UserError(`${where}.root_dir: expected a folder, got ${JSON.stringify(o.root_dir ?? null)}`);
  const name = o.name === null || o.name === undefined ? 'lightning_logs' : String(o.name);
  const parent = join(o.root_dir, name);
  const dir = join(parent, versionDir(parent, o.version, where));
  return typeof o.sub_dir === 'string' && o.sub_dir !== '' ? join(dir, o.sub_dir) : dir;
}

abstract class BufferedLogger implements ExperimentLogger {
  protected readonly rows: { step: number; scalars: Record<string, number> }[] = [];
  readonly logDir: string;

  constructor(o: LoggerOptions, where: string) {
    this.logDir = logDirOf(o, where);
  }

  logMetrics(scalars: Record<string, number>, step: number): void {
    this.rows.push({ step, scalars: { ...scalars } });
  }

  finalize(): string[] {
    if (this.rows.length === 0) return [];
    ensureDir(this.logDir, 'the logger folder');
    return [this.write()];
  }

  protected abstract write(): string;
}

export class TensorBoardLogger extends BufferedLogger {
  constructor(o: LoggerOptions) {
    super(o, 'fabric.loggers (TensorBoardLogger)');
  }

  protected write(): string {
    return writeEventFile(this.logDir, this.rows);
  }
}

export class CSVLogger extends BufferedLogger {
  constructor(o: LoggerOptions) {
    super(o, 'fabric.loggers (CSVLogger)');
  }

  protected write(): string {
    return writeMetricsCsv(this.logDir, this.rows);
  }
}

/** The numeric leaves of a report as `task/accuracy`-style tags (the run record is left out). */
export function reportScalars(report: unknown, prefix = '', out: Record<string, number> = {}, depth = 0): Record<string, number> {
  if (depth > 6 || report === null || typeof report !== 'object') return out;
  for (const [k, v] of Object.entries(report as Record<string, unknown>)) {
    if (k === 'run_info') continue;
    const tag = prefix ? `${prefix}/${k}` : k;
    if (typeof v === 'number' && Number.isFinite(v)) out[tag] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) reportScalars(v, tag, out, depth + 1);
  }
  return out;
}
