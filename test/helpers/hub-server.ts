/**
 * A fake Hugging Face hub for tests: a real node:http server on 127.0.0.1 serving fixture folders with the
 * hub's endpoints, plus a second server standing for the CDN (another host:port, as the real LFS CDN is).
 *
 * Fixtures: `{root}/{models|datasets}/{org}/{name}/{revision}/<files…>`, one folder per branch or tag;
 * a revision with `/` (`refs/convert/parquet`) is a folder named with `encodeURIComponent` (`refs%2Fconvert%2Fparquet`).
 * Each revision gets a commit hash: `commits["models/org/name@main"]` or the sha1 of its contents.
 *
 * Endpoints:
 *   HEAD|GET /{datasets/}org/name/resolve/{rev}/{path}   200 + ETag (git blob sha1), X-Repo-Commit; LFS files 302 to
 *                                                         the CDN with X-Linked-Etag (sha256), X-Linked-Size
 *   GET      /api/{models|datasets}/org/name[/revision/{rev}]   {id, sha, siblings: [{rfilename}]}
 *   GET      /api/{models|datasets}/org/name/tree/{rev}[/path]?recursive=true   pages of `pageSize`, Link rel="next"
 *   CDN:     HEAD|GET /blobs/{sha256}                    Range supported; never wants a token
 * Errors as the hub sends them: 401/404 + X-Error-Code RepoNotFound, GatedRepo (401 without token, 403 with a
 * token lacking access), RevisionNotFound, EntryNotFound (with X-Repo-Commit). Renamed repos answer 307 with
 * a relative Location.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface FakeHubOptions {
  root: string;
  /** `"models/org/name@main"` → 40-hex commit; default: a hash of the revision's files. */
  commits?: Record<string, string>;
  /** Repo keys (`"models/org/name"`) that want a token from `tokens`. */
  gated?: string[];
  /** Repo keys that look missing without a token from `tokens`. */
  privateRepos?: string[];
  /** Tokens with access to gated and private repos (default `['hf_test_token']`). */
  tokens?: string[];
  /** `"models/old/name"` → `"models/new/name"`: the old id answers 307 with a relative Location. */
  renamed?: Record<string, string>;
  /** Which files are LFS (served by the CDN); default: .safetensors .bin .parquet .onnx .pt, or 1 MiB and more. */
  lfs?: (path: string, size: number) => boolean;
  /** Tree listing page size (default 50). */
  pageSize?: number;
}

export interface RequestRecord {
  server: 'hub' | 'cdn';
  method: string;
  /** Path and query as received. */
  url: string;
  status: number;
  authorization: string | null;
  range: string | null;
}

/** Things a test may switch on between calls. */
export interface Faults {
  /** Content bodies (hub files and CDN blobs) stop after this many bytes: the socket is destroyed. */
  cutAfterBytes: number | null;
  /** Content bodies are sent in chunks of this size, pausing `delayMs` between them. */
  throttle: { chunkBytes: number; delayMs: number } | null;
  /** Every hub (not CDN) request answers this status, as a hub having an outage. */
  failStatus: number | null;
  /** With failStatus: only this many more requests fail, then the hub answers again (null: all fail). */
  failCount: number | null;
  /** With failStatus: only requests of this method fail (null: any). */
  failMethod: 'GET' | 'HEAD' | null;
  /** Range headers are ignored (a full 200 answer), as some proxies do. */
  ignoreRange: boolean;
  /** Content bodies stop after this many bytes and the connection stays open, silent, until the client leaves. */
  stallAfterBytes: number | null;
  /** Rewrites each tree listing page (a hostile or broken hub). */
  treeRewrite: ((entries: Record<string, unknown>[]) => Record<string, unknown>[]) | null;
  /** Every tree page says its next page is itself. */
  selfNextLink: boolean;
}

export interface FakeHub {
  url: string;
  cdnUrl: string;
  requests: RequestRecord[];
  faults: Faults;
  /** The commit a revision of a repo (`"models/org/name"`) has. */
  commitOf(repoKey: string, revision: string): string;
  close(): Promise<void>;
}

interface FileInfo {
  path: string;
  abs: string;
  size: number;
  gitSha1: string;
  sha256: string;
  lfs: boolean;
}

const DEFAULT_LFS = (path: string, size: number) => /\.(safetensors|bin|parquet|onnx|pt)$/.test(path) || size >= 1 << 20;

function sha1(data: Buffer | string): string {
  return createHash('sha1').update(data).digest('hex');
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...walk(join(dir, d.name), rel));
    else out.push(rel);
  }
  return out.sort();
}

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const tokens = new Set(opts.tokens ?? ['hf_test_token']);
  const lfsRule = opts.lfs ?? DEFAULT_LFS;
  const pageSize = opts.pageSize ?? 50;
  const requests: RequestRecord[] = [];
  const faults: Faults = {
    cutAfterBytes: null,
    throttle: null,
    failStatus: null,
    failCount: null,
    failMethod: null,
    ignoreRange: false,
    stallAfterBytes: null,
    treeRewrite: null,
    selfNextLink: false,
  };
  const fileCache = new Map<string, { mtime: number; info: FileInfo }>();

  const repoDir = (key: string) => join(opts.root, ...key.split('/'));
  const repoExists = (key: string) => {
    try {
      return statSync(repoDir(key)).isDirectory();
    } catch {
      return false;
    }
  };
  const revisions = (key: string): string[] => readdirSync(repoDir(key)).map((n) => decodeURIComponent(n));

  const fileInfo = (abs: string, path: string): FileInfo => {
    const st = statSync(abs);
    const hit = fileCache.get(abs);
    if (hit && hit.mtime === st.mtimeMs && hit.info.size === st.size) return hit.info;
    const data = readFileSync(abs);
    const info: FileInfo = {
      path,
      abs,
      size: data.length,
      gitSha1: sha1(Buffer.concat([Buffer.from(`blob ${data.length}\0`), data])),
      sha256: createHash('sha256').update(data).digest('hex'),
      lfs: lfsRule(path, data.length),
    };
    fileCache.set(abs, { mtime: st.mtimeMs, info });
    return info;
  };

  const filesOf = (key: string, revision: string): FileInfo[] => {
    const dir = join(repoDir(key), encodeURIComponent(revision));
    return walk(dir).map((p) => fileInfo(join(dir, ...p.split('/')), p));
  };

  const commitOf = (key: string, revision: string): string => {
    const given = opts.commits?.[`${key}@${revision}`];
    if (given) return given;
    const listing = filesOf(key, revision).map((f) => `${f.path}:${f.gitSha1}`).join('\n');
    return sha1(`${key}@${revision}\n${listing}`);
  };

  /** A revision name, or a commit of one of them, to the folder's revision name. */
  const findRevision = (key: string, rev: string): string | null => {
    const all = revisions(key);
    if (all.includes(rev)) return rev;
    return all.find((r) => commitOf(key, r) === rev) ?? null;
  };

  const blobIndex = (sha256: string): FileInfo | null => {
    const typeDirs = ['models', 'datasets', 'spaces'];
    for (const t of typeDirs) {
      let orgs: string[];
      try {
        orgs = readdirSync(join(opts.root, t));
      } catch {
        continue;
      }
      for (const org of orgs) {
        for (const name of readdirSync(join(opts.root, t, org))) {
          const key = `${t}/${org}/${name}`;
          for (const rev of revisions(key)) {
            const f = filesOf(key, rev).find((x) => x.sha256 === sha256);
            if (f) return f;
          }
        }
      }
    }
    return null;
  };

  const authOk = (req: IncomingMessage) => {
    const a = req.headers.authorization;
    return typeof a === 'string' && a.startsWith('Bearer ') && tokens.has(a.slice(7));
  };

  /** Access rules; returns true when an error answer was sent. */
  const refuse = (req: IncomingMessage, res: ServerResponse, key: string): boolean => {
    const err = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'x-error-code': code, 'x-error-message': message, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: message }));
      return true;
    };
    const hasAuth = req.headers.authorization !== undefined;
    if (!repoExists(key) || (opts.privateRepos?.includes(key) && !authOk(req))) {
      return err(hasAuth ? 404 : 401, 'RepoNotFound', 'Repository not found');
    }
    if (opts.gated?.includes(key) && !authOk(req)) {
      return hasAuth
        ? err(403, 'GatedRepo', `Access to ${key} is restricted and you are not in the authorized list.`)
        : err(401, 'GatedRepo', `Access to ${key} is restricted. You must have access to it and be authenticated to access it.`);
    }
    return false;
  };

  const sendContent = async (req: IncomingMessage, res: ServerResponse, f: FileInfo, headers: Record<string, string>) => {
    let start = 0;
    let end = f.size - 1;
    let status = 200;
    const range = faults.ignoreRange ? null : /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && f.size > 0) {
      start = range[1] ? Number(range[1]) : f.size - Number(range[2]);
      end = range[1] && range[2] ? Math.min(Number(range[2]), f.size - 1) : f.size - 1;
      if (start > end || start >= f.size) {
        res.writeHead(416, { 'content-range': `bytes */${f.size}` });
        res.end();
        return 416;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${f.size}`;
    }
    res.writeHead(status, { ...headers, 'content-length': String(end - start + 1), 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') {
      res.end();
      return status;
    }
    const body = readFileSync(f.abs).subarray(start, end + 1);
    const cut = faults.cutAfterBytes;
    const stall = faults.stallAfterBytes;
    const limit = Math.min(cut ?? body.length, stall ?? body.length, body.length);
    const step = faults.throttle?.chunkBytes ?? Math.max(1, limit);
    for (let off = 0; off < limit; off += step) {
      if (res.destroyed) return status;
      const chunk = body.subarray(off, Math.min(limit, off + step));
      // Wait until each chunk is handed to the socket, so a cut really happens after `limit` bytes.
      await new Promise<void>((r) => res.write(chunk, () => r()));
      if (faults.throttle && off + step < limit) await new Promise((r) => setTimeout(r, faults.throttle?.delayMs ?? 0));
    }
    if (stall !== null && stall < body.length) {
      if (!res.destroyed) await new Promise((r) => res.once('close', r));
      return status;
    }
    if (cut !== null && cut < body.length) {
      if (limit === 0) res.flushHeaders();
      await new Promise((r) => setTimeout(r, 20));
      res.socket?.destroy();
      return status;
    }
    res.end();
    return status;
  };

  const json = (res: ServerResponse, data: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(data));
    return 200;
  };

  let cdnUrl = '';

  const hubHandler = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    if (faults.failStatus !== null && (faults.failCount === null || faults.failCount > 0) && (faults.failMethod === null || faults.failMethod === req.method)) {
      const status = faults.failStatus;
      if (faults.failCount !== null && --faults.failCount === 0) faults.failStatus = null;
      res.writeHead(status);
      res.end();
      return status;
    }
    const u = new URL(req.url ?? '/', 'http://x');
    const parts = u.pathname.split('/').slice(1);
    // API: /api/{models|datasets}/org/name[/revision/{rev} | /tree/{rev}[/path]]
    if (parts[0] === 'api' && (parts[1] === 'models' || parts[1] === 'datasets' || parts[1] === 'spaces')) {
      const key = `${parts[1]}/${parts[2]}/${parts[3]}`;
      if (refuse(req, res, key)) return res.statusCode;
      const kind = parts[4];
      const revRaw = kind === undefined ? 'main' : decodeURIComponent(parts[5] ?? '');
      const rev = findRevision(key, revRaw);
      if (rev === null) {
        res.writeHead(404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${revRaw}` });
        res.end();
        return 404;
      }
      const files = filesOf(key, rev);
      if (kind === undefined || kind === 'revision') {
        return json(res, { id: `${parts[2]}/${parts[3]}`, sha: commitOf(key, rev), private: false, gated: opts.gated?.includes(key) ? 'auto' : false, siblings: files.map((f) => ({ rfilename: f.path })) });
      }
      if (kind === 'tree') {
        const sub = parts.slice(6).map(decodeURIComponent).join('/');
        const recursive = u.searchParams.get('recursive') === 'true' || u.searchParams.get('recursive') === 'True';
        const entries: unknown[] = [];
        const dirs = new Set<string>();
        for (const f of files) {
          if (sub && !f.path.startsWith(sub + '/')) continue;
          const rest = sub ? f.path.slice(sub.length + 1) : f.path;
          const segs = rest.split('/');
          for (let i = 1; i < segs.length; i++) {
            const d = (sub ? sub + '/' : '') + segs.slice(0, i).join('/');
            if ((recursive || i === 1) && !dirs.has(d)) {
              dirs.add(d);
              entries.push({ type: 'directory', oid: sha1(d), size: 0, path: d });
            }
          }
          if (!recursive && segs.length > 1) continue;
          entries.push({
            type: 'file',
            oid: f.gitSha1,
            size: f.size,
            path: f.path,
            ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: 130 } } : {}),
          });
        }
        const cursor = Number(u.searchParams.get('cursor') ?? '0');
        let page = entries.slice(cursor, cursor + pageSize) as Record<string, unknown>[];
        if (faults.treeRewrite) page = faults.treeRewrite(page);
        const headers: Record<string, string> = {};
        if (faults.selfNextLink) {
          headers.link = `<${hubUrl}${u.pathname}${u.search}>; rel="next"`;
        } else if (cursor + pageSize < entries.length) {
          const next = new URL(u.toString());
          next.searchParams.set('cursor', String(cursor + pageSize));
          headers.link = `<${hubUrl}${next.pathname}${next.search}>; rel="next"`;
        }
        return json(res, page, headers);
      }
      res.writeHead(404);
      res.end();
      return 404;
    }
    // resolve: /{datasets/|spaces/}org/name/resolve/{rev}/{path}
    let typeDir = 'models';
    let p = parts;
    if (p[0] === 'datasets' || p[0] === 'spaces') {
      typeDir = p[0];
      p = p.slice(1);
    }
    if (p[2] === 'resolve' && p.length >= 5) {
      const key = `${typeDir}/${p[0]}/${p[1]}`;
      const renamedTo = opts.renamed?.[key];
      if (renamedTo) {
        const [, org, name] = renamedTo.split('/');
        const prefix = typeDir === 'models' ? '' : `/${typeDir}`;
        res.writeHead(307, { location: `${prefix}/${org}/${name}/${p.slice(2).join('/')}${u.search}` });
        res.end();
        return 307;
      }
      if (refuse(req, res, key)) return res.statusCode;
      const revRaw = decodeURIComponent(p[3] as string);
      const rev = findRevision(key, revRaw);
      if (rev === null) {
        res.writeHead(404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${revRaw}` });
        res.end();
        return 404;
      }
      const commit = commitOf(key, rev);
      const path = p.slice(4).map(decodeURIComponent).join('/');
      const f = filesOf(key, rev).find((x) => x.path === path);
      if (!f) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found', 'x-repo-commit': commit });
        res.end();
        return 404;
      }
      if (f.lfs) {
        const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${f.sha256}\nsize ${f.size}\n`;
        res.writeHead(302, {
          location: `${cdnUrl}/blobs/${f.sha256}?signature=fake`,
          'x-repo-commit': commit,
          'x-linked-etag': `"${f.sha256}"`,
          'x-linked-size': String(f.size),
          etag: `"${sha1(pointer)}"`,
          'content-length': '0',
        });
        res.end();
        return 302;
      }
      return sendContent(req, res, f, { etag: `"${f.gitSha1}"`, 'x-repo-commit': commit });
    }
    res.writeHead(404);
    res.end();
    return 404;
  };

  const cdnHandler = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /^\/blobs\/([0-9a-f]{64})$/.exec(u.pathname);
    const f = m ? blobIndex(m[1] as string) : null;
    if (!f) {
      res.writeHead(404);
      res.end();
      return 404;
    }
    return sendContent(req, res, f, { etag: `"${f.sha256}"` });
  };

  const serve = (name: 'hub' | 'cdn', handler: (req: IncomingMessage, res: ServerResponse) => Promise<number>) =>
    http.createServer((req, res) => {
      const rec: RequestRecord = {
        server: name,
        method: req.method ?? '',
        url: req.url ?? '',
        status: 0,
        authorization: req.headers.authorization ?? null,
        range: req.headers.range ?? null,
      };
      requests.push(rec);
      handler(req, res).then(
        (status) => {
          rec.status = status;
        },
        (e) => {
          rec.status = 500;
          if (!res.headersSent) res.writeHead(500);
          res.end(String(e));
        },
      );
    });

  const listen = (server: http.Server) =>
    new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  const hub = serve('hub', hubHandler);
  const cdn = serve('cdn', cdnHandler);
  const hubUrl = await listen(hub);
  cdnUrl = await listen(cdn);

  return {
    url: hubUrl,
    cdnUrl,
    requests,
    faults,
    commitOf,
    close: async () => {
      for (const s of [hub, cdn]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}
