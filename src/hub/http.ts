import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { VERSION } from '../version.js';

/** The hub could not be reached (refused, reset, DNS, timeout): callers may fall back to the cache. */
export class HubNetworkError extends Error {
  override name = 'HubNetworkError';
  constructor(readonly url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The hub answered with an error status; `errorCode` is its `X-Error-Code` (RepoNotFound, GatedRepo, EntryNotFound, RevisionNotFound). */
export class HubHttpError extends Error {
  override name = 'HubHttpError';
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  constructor(readonly url: string, readonly status: number, readonly headers: IncomingHttpHeaders, bodyText: string) {
    const code = header(headers, 'x-error-code');
    const msg = header(headers, 'x-error-message');
    super(`${status} from ${url}${code ? ` (${code})` : ''}${msg ? `: ${msg}` : bodyText ? `: ${bodyText.slice(0, 200)}` : ''}`);
    this.errorCode = code;
    this.errorMessage = msg;
  }
}

export function header(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

export interface HubResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after any redirects followed. */
  url: string;
  body: IncomingMessage;
}

export interface RequestOptions {
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  /** Connect, headers and every pause in the body may each take at most this long. */
  timeoutMs: number;
  /**
   * 'none' returns any 3xx as is; 'relative' follows only same-host redirects given as a path (renamed repos),
   * as huggingface_hub does for metadata; 'all' also follows redirects to other hosts (the CDN) and then drops
   * the Authorization header, since those URLs are signed.
   */
  redirects: 'none' | 'relative' | 'all';
  /**
   * Retries on 429 and 5xx answers (huggingface_hub's http_backoff for downloads). Metadata requests do not
   * retry: during an outage they fall back to the cache at once.
   */
  retry?: Backoff;
  /**
   * Abandon a response whose body arrives slower than this many bytes per second, measured over each
   * `timeoutMs` window (0 or absent: never, as huggingface_hub, whose timeouts only bound each pause).
   */
  minBytesPerSec?: number;
}

/**
 * huggingface_hub's http_backoff: up to `attempts` retries, waiting `baseMs`, then twice as long each time up
 * to `maxMs` (its defaults: 5 retries, 1 s, 8 s). We add jitter — each wait is drawn from [d/2, d] — so
 * clients that failed together do not come back together; a server's Retry-After is obeyed as given
 * (at most 60 s). `sleep` and `random` are injectable so tests can check the waits without waiting.
 */
export interface Backoff {
  attempts: number;
  baseMs: number;
  maxMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** The wait before retry number `attempt` (0-based), without a Retry-After. */
export function backoffDelayMs(b: Backoff, attempt: number, random: () => number = Math.random): number {
  const d = Math.min(b.maxMs, b.baseMs * 2 ** attempt);
  return d / 2 + (d / 2) * random();
}

function retryDelayMs(res: HubResponse, attempt: number, b: Backoff): number {
  const raw = header(res.headers, 'retry-after');
  const after = raw === null || raw.trim() === '' ? NaN : Number(raw);
  if (Number.isFinite(after) && after >= 0) return Math.min(after * 1000, 60_000);
  return backoffDelayMs(b, attempt, b.random);
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const USER_AGENT = `fusion-bench/${VERSION}; node/${process.versions.node}`;

function once(url: string, opts: RequestOptions, headers: Record<string, string>): Promise<HubResponse> {
  return new Promise((resolvePromise, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch (e) {
      reject(new HubNetworkError(url, `invalid URL ${url}`, { cause: e }));
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (mod === null) {
      reject(new HubNetworkError(url, `unsupported protocol in ${url} (expected http: or https:)`));
      return;
    }
    let response: IncomingMessage | null = null;
    const req = mod.request(u, { method: opts.method, headers: { 'user-agent': USER_AGENT, ...headers } }, (res) => {
      response = res;
      res.on('error', () => {
        /* surfaced through the body's consumer */
      });
      if (opts.minBytesPerSec !== undefined && opts.minBytesPerSec > 0) watchThroughput(res, url, opts.timeoutMs, opts.minBytesPerSec);
      resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
    });
    req.setTimeout(opts.timeoutMs, () => {
      const err = new HubNetworkError(url, `no answer from ${u.host} within ${opts.timeoutMs / 1000}s`);
      // Mid-body, the consumer reads the response: give it this reason rather than a bare "aborted".
      (response as IncomingMessage | null)?.destroy(err);
      req.destroy(err);
    });
    req.on('error', (e) => {
      reject(e instanceof HubNetworkError ? e : new HubNetworkError(url, `cannot reach ${u.host}: ${(e as Error).message}`, { cause: e }));
    });
    req.end();
  });
}

/**
 * Destroys `res` when, over a window of `windowMs`, fewer than `minBytesPerSec` bytes per second arrived
 * (a server that drips bytes would otherwise hold a download forever, each pause under the timeout).
 * Windows in which the reader was not taking data (its buffer full) do not count. The check runs after
 * pending I/O (setImmediate), so a process stalled by load reads what arrived before judging the server.
 */
function watchThroughput(res: IncomingMessage, url: string, windowMs: number, minBytesPerSec: number): void {
  const socket = res.socket;
  let last = socket.bytesRead;
  const need = (minBytesPerSec * windowMs) / 1000;
  const timer = setInterval(() => {
    setImmediate(() => {
      if (res.complete || res.destroyed) return;
      const got = socket.bytesRead - last;
      last = socket.bytesRead;
      if (res.readableLength >= res.readableHighWaterMark) return;
      if (got < need) {
        res.destroy(new HubNetworkError(url, `transfer too slow: ${got} bytes in ${windowMs / 1000}s from ${new URL(url).host}, below the minimum of ${minBytesPerSec} bytes/s (FUSION_BENCH_HUB_MIN_SPEED)`));
      }
    });
  }, windowMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}

/** One hub request with huggingface_hub's redirect rules; any status comes back (callers decide). */
export async function hubRequest(url: string, opts: RequestOptions): Promise<HubResponse> {
  for (let attempt = 0; ; attempt++) {
    const res = await followRedirects(url, opts);
    const b = opts.retry;
    if (!b || attempt >= b.attempts || !RETRY_STATUSES.has(res.status)) return res;
    res.body.resume();
    await (b.sleep ?? realSleep)(retryDelayMs(res, attempt, b));
  }
}

/** As many redirects as requests (and browsers) follow at most. */
export const MAX_REDIRECTS = 10;

async function followRedirects(url: string, opts: RequestOptions): Promise<HubResponse> {
  let current = url;
  let headers = { ...opts.headers };
  const seen = new Set<string>([url]);
  for (let hop = 0; ; hop++) {
    const res = await once(current, opts, headers);
    const location = header(res.headers, 'location');
    const isRedirect = res.status >= 300 && res.status < 400 && location !== null;
    if (!isRedirect || opts.redirects === 'none') return res;
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(location);
    if (absolute && opts.redirects === 'relative') return res;
    let next: URL;
    try {
      next = new URL(location, current);
    } catch (e) {
      res.body.resume();
      throw new HubNetworkError(current, `${current} redirected to an invalid URL ${JSON.stringify(location)}`, { cause: e });
    }
    if (seen.has(next.toString()) || hop >= MAX_REDIRECTS) {
      res.body.resume();
      const why = seen.has(next.toString()) ? `redirects back to ${next.toString()}` : `redirected more than ${MAX_REDIRECTS} times`;
      throw new HubNetworkError(url, `redirect loop: ${url} ${why}`);
    }
    seen.add(next.toString());
    if (next.host !== new URL(current).host) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    }
    res.body.resume();
    current = next.toString();
  }
}

export async function readBody(res: HubResponse, limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > limit) throw new HubNetworkError(res.url, `answer from ${res.url} is larger than ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Throws HubHttpError for a status of 400 and above (after reading a little of the body for the message). */
export async function throwForStatus(res: HubResponse): Promise<void> {
  if (res.status < 400) return;
  let text = '';
  try {
    text = (await readBody(res, 64 * 1024)).trim();
  } catch {
    /* the status says enough */
  }
  throw new HubHttpError(res.url, res.status, res.headers, text);
}

export function authHeaders(token: string | null): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** GET a JSON document from the hub API (follows redirects), with the `Link` header for pagination. */
export async function getJson(url: string, token: string | null, timeoutMs: number, minBytesPerSec = 0): Promise<{ data: unknown; headers: IncomingHttpHeaders }> {
  const res = await hubRequest(url, { method: 'GET', headers: { ...authHeaders(token), accept: 'application/json' }, timeoutMs, redirects: 'relative', minBytesPerSec });
  await throwForStatus(res);
  let body: string;
  try {
    body = await readBody(res);
  } catch (e) {
    throw e instanceof HubNetworkError ? e : new HubNetworkError(url, `connection to ${url} broke: ${(e as Error).message}`, { cause: e });
  }
  try {
    return { data: JSON.parse(body), headers: res.headers };
  } catch (e) {
    throw new HubNetworkError(url, `answer from ${url} is not JSON (is HF_ENDPOINT a Hugging Face hub?)`, { cause: e });
  }
}

/** The `rel="next"` URL of a `Link` header, or null. */
export function nextLink(headers: IncomingHttpHeaders): string | null {
  const link = header(headers, 'link');
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1] as string;
  }
  return null;
}
