import { createReadStream, createWriteStream, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { hubRefusal, isDefiniteAnswer, type ErrorContext } from './hub-errors.js';
import { authHeaders, header, hubRequest, HubHttpError, HubNetworkError, throwForStatus, type HubResponse } from './http.js';
import { describeRepo } from './repo-id.js';
import type { Settings } from './settings.js';

/**
 * Fetching one blob into `blobs/`. Bytes go to a temp file of their own, `<etag>.node-<random>.incomplete`
 * (huggingface_hub writes `<etag>.<random>.incomplete`), checked for size and, when the ETag is a sha256
 * (LFS files: the big ones), for content, then renamed onto `<etag>`. Nothing partial is ever named like a
 * finished blob.
 *
 * Everything here runs under the blob's lock, so every `.node-` temp of this blob is a dead download's: for
 * sha256 blobs the largest one is resumed with a Range request (and its prefix re-hashed), the others
 * deleted. Python's temps are deleted once idle for `staleMs`, since a Python process does not see our lock.
 */

const SHA256 = /^[0-9a-f]{64}$/;
const OURS = /^\.node-[0-9a-f]{8}\.incomplete$/;

function temps(blob: string): { path: string; ours: boolean }[] {
  const dir = dirname(blob);
  const prefix = basename(blob);
  try {
    return readdirSync(dir)
      .filter((n) => n.startsWith(prefix + '.') && n.endsWith('.incomplete'))
      .map((n) => ({ path: join(dir, n), ours: OURS.test(n.slice(prefix.length)) }));
  } catch {
    return [];
  }
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return -1;
  }
}

/** The newest mtime of any temp download of this blob: a lock whose download still grows is not stale. */
export function tempActivity(blob: string): number {
  let newest = 0;
  for (const t of temps(blob)) {
    try {
      newest = Math.max(newest, statSync(t.path).mtimeMs);
    } catch {
      /* finished meanwhile */
    }
  }
  return newest;
}

function newTempName(blob: string): string {
  return `${blob}.node-${randomBytes(4).toString('hex')}.incomplete`;
}

/** Sweeps dead temps and claims (renames) the best one to resume from, if resuming is allowed. */
function claimPartial(blob: string, staleMs: number, resumable: boolean): { path: string; size: number } | null {
  let best: { path: string; size: number } | null = null;
  for (const t of temps(blob)) {
    if (!t.ours) {
      try {
        if (Date.now() - statSync(t.path).mtimeMs > staleMs) rmSync(t.path, { force: true });
      } catch {
        /* gone meanwhile */
      }
      continue;
    }
    const size = sizeOf(t.path);
    if (resumable && size > 0 && (best === null || size > best.size)) {
      if (best !== null) rmSync(best.path, { force: true });
      best = { path: t.path, size };
    } else {
      rmSync(t.path, { force: true });
    }
  }
  if (best === null) return null;
  const claimed = newTempName(blob);
  try {
    renameSync(best.path, claimed);
  } catch {
    return null;
  }
  return { path: claimed, size: best.size };
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

export interface BlobJob {
  /** Where the bytes are (the resolve URL or the CDN). */
  url: string;
  /** The hub's host: the token is only sent there. */
  hubHost: string;
  blob: string;
  etag: string;
  size: number;
  filename: string;
  ctx: ErrorContext;
  s: Settings;
  staleMs: number;
  /** Progress in bytes; negative when a resume had to start over. */
  onBytes: (n: number) => void;
}

function what(job: BlobJob): string {
  return `'${job.filename}' of ${describeRepo(job.ctx.ref)} from ${new URL(job.url).host}`;
}

function contentRangeStart(res: HubResponse): number | null {
  const m = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '');
  return m ? Number(m[1]) : null;
}

/** Downloads the blob (resuming a dead partial download when it can); UserErrors name the file and repo. */
export async function fetchBlob(job: BlobJob): Promise<void> {
  const verify = SHA256.test(job.etag);
  const claimed = claimPartial(job.blob, job.staleMs, verify);
  const tmp = claimed?.path ?? newTempName(job.blob);
  let have = claimed !== null && claimed.size <= job.size ? claimed.size : 0;
  let hash = createHash('sha256');
  let network = false;
  let kept = false;
  try {
    if (have > 0) {
      await hashFile(tmp, hash);
      job.onBytes(have);
    } else if (claimed !== null) {
      rmSync(tmp, { force: true });
    }
    if (have === job.size && have > 0 && hash.copy().digest('hex') !== job.etag) {
      // A complete-looking partial with the wrong content: start over.
      job.onBytes(-have);
      have = 0;
      hash = createHash('sha256');
    }
    if (have < job.size || job.size === 0) {
      network = true;
      const sameHost = new URL(job.url).host === job.hubHost;
      const get = (range: number) =>
        hubRequest(job.url, {
          method: 'GET',
          headers: { ...(sameHost ? authHeaders(job.s.token) : {}), 'accept-encoding': 'identity', ...(range > 0 ? { range: `bytes=${range}-` } : {}) },
          timeoutMs: job.s.downloadTimeoutMs,
          redirects: 'all',
          retry: job.s.backoff,
          minBytesPerSec: job.s.minBytesPerSec,
        });
      let res = await get(have);
      if (have > 0 && !(res.status === 206 && contentRangeStart(res) === have)) {
        // The server did not resume where we are: take its full answer, or ask for one.
        if (res.status !== 200) {
          res.body.resume();
          res = await get(0);
        }
        job.onBytes(-have);
        have = 0;
        hash = createHash('sha256');
      }
      await throwForStatus(res);
      let received = have;
      const h = hash;
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          received += chunk.length;
          if (verify) h.update(chunk);
          job.onBytes(chunk.length);
          cb(null, chunk);
        },
      });
      try {
        await pipeline(res.body, count, createWriteStream(tmp, { flags: have > 0 ? 'a' : 'w' }));
      } catch (e) {
        kept = verify && received > 0 && received < job.size;
        const at = received < job.size ? ` after ${received} of ${job.size} bytes` : '';
        throw new UserError(
          `Download of ${what(job)} failed${at} (${(e as Error).message}); ` +
            (kept ? 'the partial download is kept and resumes on the next run.' : 'nothing was kept in the cache, run again to retry.'),
          { cause: e },
        );
      }
      if (received !== job.size) throw new HubNetworkError(job.url, `expected ${job.size} bytes but received ${received}`);
    }
    if (verify) {
      const got = hash.digest('hex');
      if (got !== job.etag) throw new HubNetworkError(job.url, `content sha256 ${got} does not match the hub's ETag ${job.etag}`);
    }
    renameSync(tmp, job.blob);
  } catch (e) {
    if (!kept) rmSync(tmp, { force: true });
    if (e instanceof UserError) throw e;
    if (e instanceof HubHttpError) {
      throw isDefiniteAnswer(e) ? hubRefusal(e, job.ctx) : new UserError(`Download of ${what(job)} failed: ${(e as Error).message}`, { cause: e });
    }
    if (!network && !(e instanceof HubNetworkError)) throw e;
    throw new UserError(`Download of ${what(job)} failed (${(e as Error).message}); nothing was kept in the cache, run again to retry.`, { cause: e });
  }
}
