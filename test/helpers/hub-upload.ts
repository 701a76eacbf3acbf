/**
 * The upload side of the fake hub: create_repo, preupload, the LFS batch API (uploads PUT to the CDN
 * server, as the real hub hands out signed URLs on another host) and the NDJSON commit, which writes the
 * files into the fixture folder so that they can be downloaded again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';

export interface UploadState {
  /** Bytes PUT to the CDN, by sha256. */
  lfsObjects: Map<string, Buffer>;
  /** Commits received: repo key, revision, summary, paths. */
  commits: { repo: string; revision: string; summary: string; paths: string[] }[];
  created: string[];
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, value: unknown): number {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return status;
}

const isLfs = (path: string, size: number) => /\.(safetensors|bin|parquet|onnx|pt)$/.test(path) || size >= 1 << 20;

export function uploadRoutes(root: string, tokens: Set<string>, cdnUrl: () => string) {
  const state: UploadState = { lfsObjects: new Map(), commits: [], created: [] };
  const authorized = (req: IncomingMessage) => tokens.has((req.headers.authorization ?? '').replace(/^Bearer /, ''));

  /** POST routes of the hub; null when the path is not one of them. */
  const hub = async (req: IncomingMessage, res: ServerResponse): Promise<number | null> => {
    const u = new URL(req.url ?? '/', 'http://x');
    const p = u.pathname.split('/').slice(1).map(decodeURIComponent);
    if (req.method !== 'POST') return null;
    if (!authorized(req)) return reply(res, 401, { error: 'Invalid credentials' });
    if (p[0] === 'api' && p[1] === 'repos' && p[2] === 'create') {
      const b = JSON.parse((await bodyOf(req)).toString('utf8')) as { name: string; organization: string | null; type: string };
      const key = `models/${b.organization ?? 'user'}/${b.name}`;
      const dir = join(root, ...key.split('/'));
      if (state.created.includes(key)) return reply(res, 409, { error: 'You already created this model repo' });
      state.created.push(key);
      mkdirSync(dir, { recursive: true });
      return reply(res, 200, { url: `/${b.organization ?? 'user'}/${b.name}` });
    }
    if (p[0] === 'api' && p[1] === 'models' && p[4] === 'preupload') {
      const b = JSON.parse((await bodyOf(req)).toString('utf8')) as { files: { path: string; size: number; sample: string }[] };
      return reply(res, 200, { files: b.files.map((f) => ({ path: f.path, uploadMode: isLfs(f.path, f.size) ? 'lfs' : 'regular', shouldIgnore: false })) });
    }
    if (p[1]?.endsWith('.git') && p.slice(2).join('/') === 'info/lfs/objects/batch') {
      const b = JSON.parse((await bodyOf(req)).toString('utf8')) as { objects: { oid: string; size: number }[] };
      return reply(res, 200, {
        transfer: 'basic',
        objects: b.objects.map((o) => (state.lfsObjects.has(o.oid) ? { oid: o.oid, size: o.size } : { oid: o.oid, size: o.size, actions: { upload: { href: `${cdnUrl()}/upload/${o.oid}?signature=fake` } } })),
      });
    }
    if (p[0] === 'api' && p[1] === 'models' && p[4] === 'commit') {
      const key = `models/${p[2]}/${p[3]}`;
      const revision = p[5] ?? 'main';
      const lines = (await bodyOf(req)).toString('utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
      const dir = join(root, ...key.split('/'), encodeURIComponent(revision));
      const paths: string[] = [];
      let summary = '';
      for (const { key: kind, value } of lines) {
        if (kind === 'header') summary = String(value.summary);
        const path = String(value.path ?? '');
        if (kind === 'file') {
          mkdirSync(dirname(join(dir, path)), { recursive: true });
          writeFileSync(join(dir, path), Buffer.from(String(value.content), 'base64'));
          paths.push(path);
        } else if (kind === 'lfsFile') {
          const data = state.lfsObjects.get(String(value.oid));
          if (!data || data.length !== value.size) return reply(res, 400, { error: `LFS object ${String(value.oid)} was not uploaded` });
          mkdirSync(dirname(join(dir, path)), { recursive: true });
          writeFileSync(join(dir, path), data);
          paths.push(path);
        }
      }
      state.commits.push({ repo: key, revision, summary, paths });
      return reply(res, 200, { commitOid: createHash('sha1').update(JSON.stringify(lines)).digest('hex'), commitUrl: `/${p[2]}/${p[3]}/commit/x` });
    }
    return null;
  };

  /** PUT /upload/{oid} on the CDN: the bytes must hash to the oid. */
  const cdn = async (req: IncomingMessage, res: ServerResponse): Promise<number | null> => {
    const m = /^\/upload\/([0-9a-f]{64})$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method !== 'PUT' || !m) return null;
    const data = await bodyOf(req);
    if (createHash('sha256').update(data).digest('hex') !== m[1]) return reply(res, 400, { error: 'sha256 mismatch' });
    state.lfsObjects.set(m[1]!, data);
    res.writeHead(200);
    res.end();
    return 200;
  };

  return { state, hub, cdn };
}
