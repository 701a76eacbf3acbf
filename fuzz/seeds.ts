/** Seed corpora: the test fixtures and the package's own configs and demo files. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/fuzz or, through tsx, from fuzz/). */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
})();

export function repoFile(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, ...parts)));
}

export function repoText(...parts: string[]): string {
  return readFileSync(join(repoRoot, ...parts), 'utf8');
}

/** Files under a repository folder whose names end with `ext`, sorted (deterministic seed order). */
export function repoFiles(folder: string, ext: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else if (name.endsWith(ext)) out.push(p);
    }
  };
  visit(join(repoRoot, folder));
  return out;
}

let scratch: string | null = null;

/** A temporary folder for this process's inputs, removed at exit. */
export function scratchDir(): string {
  if (scratch === null) {
    scratch = mkdtempSync(join(tmpdir(), 'fusion-bench-fuzz-'));
    const dir = scratch;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

let counter = 0;
/** A fresh, empty folder under the scratch folder. */
export function freshDir(): string {
  const d = join(scratchDir(), String(counter++));
  mkdirSync(d, { recursive: true });
  return d;
}
