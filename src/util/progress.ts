/**
 * A small progress display for long loops (downloads in bytes, evaluation in images): on a terminal, one
 * line redrawn in place at most every `redrawMs`; elsewhere (logs, CI, pipes) a plain line every
 * `plainEveryMs` and one when done, so logs stay readable. Quiet draws nothing.
 */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** What is being counted, e.g. `model.safetensors` or `eval svhn`. */
  label: string;
  /** The expected count, when known: adds a bar, a percentage and an ETA. */
  total?: number | null;
  /** 'bytes' formats as kB/MB/GB; any other word is printed after the count (`images`, `images/s`). */
  unit?: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  quiet?: boolean;
  redrawMs?: number;
  plainEveryMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface Progress {
  /** Adds `delta` to the count. */
  add(delta: number): void;
  /** Sets the count. */
  set(done: number): void;
  readonly done: number;
  /** Draws the final state and ends the line; later calls do nothing. */
  finish(): void;
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 1234567 → "1.23 MB" (decimal units, as tqdm's unit_scale). */
export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1000 && i < DECIMAL.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${DECIMAL[i]}`;
}

/** Seconds → "42s", "3m05s", "1h02m". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatCount(n: number, unit: string): string {
  return unit === 'bytes' ? formatBytes(n) : `${Math.round(n)} ${unit}`;
}

function formatRate(perSec: number, unit: string): string {
  if (!Number.isFinite(perSec)) return '?';
  return unit === 'bytes' ? `${formatBytes(perSec)}/s` : `${perSec >= 100 ? Math.round(perSec) : perSec.toFixed(1)} ${unit}/s`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const unit = opts.unit ?? 'bytes';
  const total = opts.total ?? null;
  const now = opts.now ?? (() => performance.now());
  const redrawMs = opts.redrawMs ?? 100;
  const plainEveryMs = opts.plainEveryMs ?? 30_000;
  const start = now();
  let done = 0;
  let lastDraw = -Infinity;
  let lastPlain = start;
  let finished = false;

  const stats = (): string => {
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : NaN;
    const count = total !== null ? `${formatCount(done, unit)} / ${formatCount(total, unit)}` : formatCount(done, unit);
    const eta = total !== null && rate > 0 && done < total ? `, ETA ${formatDuration((total - done) / rate)}` : '';
    return `${count}, ${formatRate(rate, unit)}, ${formatDuration(elapsed)}${eta}`;
  };

  const ttyLine = (): string => {
    let bar = '';
    if (total !== null && total > 0) {
      const frac = Math.min(1, done / total);
      const width = 20;
      const full = Math.round(frac * width);
      bar = ` ${String(Math.floor(frac * 100)).padStart(3)}% [${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
    }
    const line = `${opts.label}:${bar} ${stats()}`;
    const cols = stream.columns ?? 120;
    return line.length >= cols ? line.slice(0, cols - 1) : line;
  };

  const draw = (force: boolean): void => {
    if (opts.quiet) return;
    const t = now();
    if (tty) {
      if (!force && t - lastDraw < redrawMs) return;
      lastDraw = t;
      stream.write(`\r${ttyLine()}\x1b[K`);
    } else if (!force && t - lastPlain >= plainEveryMs) {
      lastPlain = t;
      stream.write(`${opts.label}: ${stats()}\n`);
    }
  };

  return {
    add(delta: number) {
      done += delta;
      draw(false);
    },
    set(n: number) {
      done = n;
      draw(false);
    },
    get done() {
      return done;
    },
    finish() {
      if (finished) return;
      finished = true;
      if (opts.quiet) return;
      if (tty) {
        draw(true);
        stream.write('\n');
      } else {
        stream.write(`${opts.label}: ${stats()}\n`);
      }
    },
  };
}
