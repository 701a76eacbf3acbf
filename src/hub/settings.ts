import { UserError } from '../errors.js';
import type { ProgressStream } from '../util/progress.js';
import { readHubEnv, type EnvVars, type HubEnv } from './env.js';
import type { Backoff } from './http.js';

/** Options every hub call takes: where the environment comes from, and per-call overrides of it. */
export interface HubCallOptions {
  /** The raw environment (default process.env). */
  env?: EnvVars;
  /** Settings already read with readHubEnv (wins over `env`). */
  hubEnv?: HubEnv;
  /** Overrides HF_ENDPOINT. */
  endpoint?: string;
  /** Overrides HF_TOKEN / the token file; null sends no token. */
  token?: string | null;
  /** Overrides HF_HUB_CACHE. */
  cacheDir?: string;
  /** Overrides HF_HUB_OFFLINE (`local_files_only` in Python). */
  offline?: boolean;
  /** No progress output. */
  quiet?: boolean;
  /** Where progress goes (default process.stderr). */
  progressStream?: ProgressStream;
  /** First wait before retrying a download that got 429/5xx (doubles each time up to 8×; default 1000 ms). */
  retryBaseMs?: number;
  /** How retries wait (tests record the waits instead). */
  sleep?: (ms: number) => Promise<void>;
  /** The jitter's random source in [0, 1) (default Math.random). */
  random?: () => number;
  /** Most pages of a tree listing followed (default 10 000 pages, i.e. millions of files). */
  maxListPages?: number;
}

export interface Settings {
  endpoint: string;
  token: string | null;
  hubCache: string;
  offline: boolean;
  etagTimeoutMs: number;
  downloadTimeoutMs: number;
  quiet: boolean;
  progressStream: ProgressStream | undefined;
  retryBaseMs: number;
  backoff: Backoff;
  /** FUSION_BENCH_HUB_MIN_SPEED: bytes per second below which a transfer is abandoned (0: never). */
  minBytesPerSec: number;
  maxListPages: number;
}

function checkEndpoint(endpoint: string): string {
  let u: URL | null = null;
  try {
    u = new URL(endpoint);
  } catch {
    /* reported below */
  }
  if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new UserError(`HF_ENDPOINT '${endpoint}' is not an http(s) URL (expected e.g. https://huggingface.co)`);
  }
  return endpoint.replace(/\/+$/, '');
}

export const DEFAULT_MAX_LIST_PAGES = 10_000;

export function resolveSettings(o: HubCallOptions): Settings {
  const h = o.hubEnv ?? readHubEnv(o.env ?? process.env);
  const retryBaseMs = o.retryBaseMs ?? 1000;
  return {
    endpoint: checkEndpoint(o.endpoint ?? h.endpoint),
    token: o.token !== undefined ? o.token : h.token,
    hubCache: o.cacheDir ?? h.hubCache,
    offline: o.offline ?? h.offline,
    etagTimeoutMs: h.etagTimeoutMs,
    downloadTimeoutMs: h.downloadTimeoutMs,
    quiet: o.quiet ?? h.disableProgressBars,
    progressStream: o.progressStream,
    retryBaseMs,
    // huggingface_hub's http_backoff defaults: 5 retries, 1 s doubling up to 8 s
    backoff: { attempts: 5, baseMs: retryBaseMs, maxMs: 8 * retryBaseMs, sleep: o.sleep, random: o.random },
    minBytesPerSec: h.minBytesPerSec,
    maxListPages: o.maxListPages ?? DEFAULT_MAX_LIST_PAGES,
  };
}
