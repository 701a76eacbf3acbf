import { isAbsolute, resolve } from 'node:path';
import { composeConfig, type ComposeResult, type RunMode } from '../config/compose.js';
import type { ConfigFileCache } from '../config/repository.js';
import { defaultConfigDir } from '../util/package-root.js';
import type { AppIO, ComposeRequest } from './io.js';

export const DEFAULT_CONFIG_NAME = 'fabric_model_fusion';

/**
 * The config a request names, composed with its `hydra` node. Hydra's `--config-path` is relative to the
 * working folder here (Python's is relative to the script). `overrides` replaces the request's own (a
 * sweep composes each job with its own overrides); `cache` shares parsed files between compositions.
 */
export function composeRequest(
  req: ComposeRequest,
  io: Pick<AppIO, 'env' | 'cwd'>,
  runMode: RunMode,
  opts: { overrides?: readonly string[]; cache?: ConfigFileCache } = {},
): ComposeResult {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
  return composeConfig({
    configPath: req.configPath === null ? defaultConfigDir : abs(req.configPath),
    configName: req.configName ?? DEFAULT_CONFIG_NAME,
    configDirs: req.configDir === null ? [] : [abs(req.configDir)],
    overrides: [...(opts.overrides ?? req.overrides)],
    runMode,
    withHydra: true,
    env: io.env,
    cwd: io.cwd,
    fromShell: true,
    cache: opts.cache,
  });
}
