import { rmSync } from 'node:fs';

/**
 * Files (or folders) being written under temporary names. An interrupted run (Ctrl-C, SIGTERM) removes them before
 * it exits, so it leaves no half-written model or report behind; finished files were renamed into
 * place and are never touched.
 */
const temps = new Set<string>();
let installed = false;

function onSignal(signal: NodeJS.Signals, code: number): void {
  let removed = 0;
  for (const t of temps) {
    try {
      rmSync(t, { force: true, recursive: true });
      removed++;
    } catch {
      // nothing more can be done on the way out
    }
  }
  temps.clear();
  process.stderr.write(`\nInterrupted (${signal})${removed ? `: removed ${removed} unfinished file${removed > 1 ? 's' : ''}` : ''}.\n`);
  process.exit(code);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
}

export function trackTemp(path: string): void {
  install();
  temps.add(path);
}

export function untrackTemp(path: string): void {
  temps.delete(path);
}
