import type { ConfigRepository } from './repository.js';

/**
 * Every config group with at least one option, depth-first from `parent` (Hydra's
 * list_all_config_groups), for --help's `$APP_CONFIG_GROUPS` and `$HYDRA_CONFIG_GROUPS`.
 */
export function listAllConfigGroups(repo: ConfigRepository, parent = ''): string[] {
  const groups: string[] = [];
  for (const group of repo.groupOptions(parent, 'group')) {
    const name = parent === '' ? group : `${parent}/${group}`;
    if (repo.groupOptions(name, 'config').length > 0) groups.push(name);
    if (repo.groupOptions(name, 'group').length > 0) groups.push(...listAllConfigGroups(repo, name));
  }
  return groups;
}

/** Every option of a group, those in its sub-folders as `sub/option` (selected as `method=dare/ties_merging`). */
export function groupOptionsDeep(repo: ConfigRepository, group: string, prefix = ''): string[] {
  const here = group + (prefix ? `/${prefix}` : '');
  const out = repo.groupOptions(here, 'config').map((o) => (prefix ? `${prefix}/${o}` : o));
  for (const sub of repo.groupOptions(here, 'group')) out.push(...groupOptionsDeep(repo, group, prefix ? `${prefix}/${sub}` : sub));
  return out.sort();
}

/**
 * The groups matching `predicate`, sorted, one a line: `group: a, b, c` (compact) or the group then its
 * options indented by two spaces (Hydra's format_config_groups).
 */
export function formatConfigGroups(repo: ConfigRepository, predicate: (group: string) => boolean, compact = true): string {
  const groups = listAllConfigGroups(repo).filter(predicate).sort();
  let out = '';
  for (const group of groups) {
    const options = repo.groupOptions(group, 'config');
    out += compact ? `${group}: ${options.join(', ')}\n` : `${group}:\n${options.map((o) => `  ${o}`).join('\n')}\n`;
  }
  return out;
}

/** Hydra's own groups (`hydra` and `hydra/...`), shown by --hydra-help rather than --help. */
export function isHydraGroup(group: string): boolean {
  return group === 'hydra' || group.startsWith('hydra/');
}
