import { packageRoot } from '../util/package-root.js';
import { join, resolve } from 'node:path';

/**
 * Hydra's config search path: an ordered list of (provider, path) where path is `file://dir`, `pkg://module`,
 * a bare directory, or `structured://` (Hydra's ConfigStore, our hydra-conf/structured folder).
 */
export interface SearchPathEntry {
  provider: string;
  path: string;
}

/** Our copy of Hydra's `pkg://hydra.conf` (the YAML files Hydra ships). */
export const hydraPkgConfDir = join(packageRoot, 'hydra-conf', 'pkg');
/** Our copy of the configs Hydra keeps in its ConfigStore (`structured://`): hydra/config and the core plugins. */
export const hydraStructuredConfDir = join(packageRoot, 'hydra-conf', 'structured');
/** fusion_bench's own config tree (`pkg://fusion_bench.config`). */
export const fusionBenchConfigDir = join(packageRoot, 'config');

/**
 * Maps a `pkg://` module path to a folder of ours, or null when we ship no such package. Python packages
 * fusion_bench users name in `hydra.searchpath` map onto the folders this project carries.
 */
export function resolvePackagePath(modulePath: string): string | null {
  const parts = modulePath.split(/[./]/).filter((p) => p.length > 0);
  if (parts[0] === 'hydra' && parts[1] === 'conf') return join(hydraPkgConfDir, ...parts.slice(2));
  if (parts[0] === 'fusion_bench' && parts[1] === 'config') return join(fusionBenchConfigDir, ...parts.slice(2));
  return null;
}

/**
 * The search path Hydra builds for a run (hydra/_internal/utils.py create_config_search_path plus the
 * `--config-dir` handling of run_hydra): hydra's own configs, the primary config dir, the extra dirs
 * (provider `command-line`, each prepended before the schema source), and the schema source last.
 */
export function buildSearchPath(configPath: string | null, configDirs: readonly string[] = []): SearchPathEntry[] {
  const out: SearchPathEntry[] = [{ provider: 'hydra', path: 'pkg://hydra.conf' }];
  if (configPath !== null) out.push({ provider: 'main', path: toSearchPathDir(configPath) });
  for (const d of configDirs) out.push({ provider: 'command-line', path: 'file://' + resolve(d) });
  out.push({ provider: 'schema', path: 'structured://' });
  return out;
}

function toSearchPathDir(p: string): string {
  if (p.includes('://')) return p;
  return resolve(p);
}
