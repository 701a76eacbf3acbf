import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The raw environment a hub call reads: `process.env` by default, any plain object in tests. */
export type EnvVars = Readonly<Record<string, string | undefined>>;

/** The hub settings huggingface_hub derives from its environment variables (constants.py), resolved once. */
export interface HubEnv {
  /** `HF_ENDPOINT` without a trailing slash. */
  endpoint: string;
  /** `HF_TOKEN` (or the legacy `HUGGING_FACE_HUB_TOKEN`), else the token file; null when none or implicit tokens are off. */
  token: string | null;
  /** `HF_HOME`. */
  home: string;
  /** `HF_HUB_CACHE` (or the legacy `HUGGINGFACE_HUB_CACHE`), else `$HF_HOME/hub`. */
  hubCache: string;
  /** `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`): no network call at all. */
  offline: boolean;
  /** `HF_HUB_ETAG_TIMEOUT` in ms: how long a metadata request may take. */
  etagTimeoutMs: number;
  /** `HF_HUB_DOWNLOAD_TIMEOUT` in ms: how long a download may go without receiving a byte. */
  downloadTimeoutMs: number;
  /**
   * `FUSION_BENCH_HUB_MIN_SPEED` (ours): bytes per second below which a transfer is abandoned, measured over
   * each timeout window; 0 (the default, as huggingface_hub has no such limit) never abandons one.
   */
  minBytesPerSec: number;
  /** `HF_HUB_DISABLE_PROGRESS_BARS`. */
  disableProgressBars: boolean;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** huggingface_hub's `_is_true`: only these spellings turn a flag on. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.toUpperCase());
}

/** Python's `os.path.expandvars(os.path.expanduser(p))`: `~` first, then `$VAR` / `${VAR}`; unknown variables stay as written. */
export function expandPath(p: string, env: EnvVars, home: string): string {
  let out = p === '~' || p.startsWith('~/') ? home + p.slice(1) : p;
  out = out.replace(/\$(\w+)|\$\{([^}]+)\}/g, (whole, a: string | undefined, b: string | undefined) => {
    const v = env[(a ?? b) as string];
    return v === undefined ? whole : v;
  });
  return out;
}

function seconds(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  // Python's `_as_int(...) or default`: zero and garbage fall back (garbage would raise there; a default is kinder).
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function readTokenFile(path: string): string | null {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t === '' ? null : t;
  } catch {
    return null;
  }
}

/**
 * Reads the hub settings from `env` the way huggingface_hub's constants.py does, so a user's shell setup
 * (and their existing cache) works unchanged. `userHome` stands for `~`.
 */
export function readHubEnv(env: EnvVars = process.env, userHome: string = homedir()): HubEnv {
  const nonEmpty = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const xdg = nonEmpty('XDG_CACHE_HOME') ?? join(userHome, '.cache');
  const home = expandPath(nonEmpty('HF_HOME') ?? join(xdg, 'huggingface'), env, userHome);
  const hubCache = expandPath(nonEmpty('HF_HUB_CACHE') ?? nonEmpty('HUGGINGFACE_HUB_CACHE') ?? join(home, 'hub'), env, userHome);
  const tokenPath = expandPath(nonEmpty('HF_TOKEN_PATH') ?? join(home, 'token'), env, userHome);
  let token: string | null = (nonEmpty('HF_TOKEN') ?? nonEmpty('HUGGING_FACE_HUB_TOKEN'))?.replace(/\r?\n/g, '').trim() || null;
  if (token === null) token = readTokenFile(tokenPath);
  if (isTrue(env.HF_HUB_DISABLE_IMPLICIT_TOKEN)) token = null;
  const endpoint = (nonEmpty('HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  return {
    endpoint,
    token,
    home,
    hubCache,
    offline: isTrue(nonEmpty('HF_HUB_OFFLINE') ?? env.TRANSFORMERS_OFFLINE),
    etagTimeoutMs: seconds(env.HF_HUB_ETAG_TIMEOUT, 10) * 1000,
    downloadTimeoutMs: seconds(env.HF_HUB_DOWNLOAD_TIMEOUT, 10) * 1000,
    minBytesPerSec: seconds(env.FUSION_BENCH_HUB_MIN_SPEED, 0),
    disableProgressBars: isTrue(env.HF_HUB_DISABLE_PROGRESS_BARS),
  };
}
