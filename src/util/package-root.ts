import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (where package.json, config/ and hydra-conf/ live), compiled or not. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'config'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`fusion-bench: package root not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

/** The package's own primary config folder, the default --config-path. */
export const defaultConfigDir = join(packageRoot, 'config');
