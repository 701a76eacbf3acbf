import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigRepository } from '../../src/config/repository.js';
import { buildSearchPath } from '../../src/config/search-path.js';
import { loadYaml } from '../../src/config/omegaconf/yaml.js';
import type { ResultDefault } from '../../src/config/defaults/build.js';

const written: string[] = [];
// Every test file runs in its own process: its trees go when it ends (they were left in the temp folder, thousands a day).
process.on('exit', () => {
  for (const dir of written) rmSync(dir, { recursive: true, force: true });
});

/** Writes a config tree ({'db/mysql.yaml': 'text'}) into a fresh temp folder and returns the folder. */
export function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-defaults-'));
  written.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

/** A repository over Hydra's configs, `dir` as the primary config dir, and extra dirs. */
export function repoFor(dir: string, extra: string[] = []): ConfigRepository {
  return new ConfigRepository(buildSearchPath(dir, extra), loadYaml);
}

/** The compact form tests compare: `path@package` with `(self)` / `(primary)` markers and the parent. */
export function brief(defaults: readonly ResultDefault[], withHydra = false): string[] {
  return defaults
    .filter((d) => withHydra || !(d.configPath.startsWith('hydra/') && (d.parent === 'hydra/config' || d.configPath === 'hydra/config')))
    .map((d) => `${d.configPath}@${d.package}${d.isSelf ? ' self' : ''}${d.primary ? ' primary' : ''} <- ${d.parent}`);
}
