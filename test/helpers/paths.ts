import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/** The repository root, found from this file whether it runs compiled (dist/test/helpers) or through tsx (test/helpers). */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

/** The compiled command-line entry point. */
export const binPath = join(repoRoot, 'bin', 'fusion-bench.js');

/**
 * The read-only reference material next to the checkout (`../shared`), or null where it is absent
 * (a user's clone). FUSION_BENCH_SHARED_DIR points elsewhere (and then must be there). A `../shared` with
 * any of its parts counts as present: a partial copy makes the suites that read it fail, never skip.
 */
export const sharedDir: string | null = (() => {
  const given = process.env.FUSION_BENCH_SHARED_DIR;
  if (given !== undefined && given !== '') return given;
  const p = resolve(repoRoot, '..', 'shared');
  return ['README.md', 'conformance', 'fixtures', 'data'].some((part) => existsSync(join(p, part))) ? p : null;
})();

/** Options for node:test's `test(name, options, fn)`: skips with a message when ../shared is absent. */
export function needsShared(): { skip: string | false } {
  return { skip: sharedDir === null ? '../shared is absent (reference material is only next to CI and developer checkouts)' : false };
}

/** Path inside ../shared; only call when sharedDir is not null. */
export function sharedPath(...parts: string[]): string {
  if (sharedDir === null) throw new Error('../shared is absent');
  return join(sharedDir, ...parts);
}
