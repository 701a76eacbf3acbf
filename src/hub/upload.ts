/**
 * Uploading a saved model folder to the hub (`merged_model_save_kwargs.push_to_hub`), as huggingface_hub's
 * `create_repo` + `upload_folder` do: the repository is created if missing, `preupload` says which files
 * go through LFS, LFS objects are sent with the batch API (a PUT to the URL it gives, without our token
 * when that URL is on another host), then one commit (NDJSON: a header, small files inline as base64,
 * LFS files by oid). The token only ever goes to the hub's own host.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join, relative, sep } from 'node:path';
import { UserError } from '../errors.js';
import { HubHttpError, HubNetworkError, USER_AGENT } from './http.js';
import { pyQuote, validateRepoId } from './repo-id.js';
import { resolveSettings, type HubCallOptions } from './settings.js';

export interface UploadFolderOptions extends HubCallOptions {
  repoId: string;
  folder: string;
  /** Branch to commit to (default main). */
  revision?: string;
  commitMessage?: string;
  /** Create the repository as private when it does not exist. */
  private?: boolean;
}

export interface UploadResult {
  commitOid: string | null;
  commitUrl: string | null;
  files: string[];
}

interface Answer {
  status: number;
  text: string;
  headers: IncomingMessage['headers'];
}

type Body = { kind: 'bytes'; data: Buffer } | { kind: 'file'; path: string; size: number };

function send(url: string, method: 'POST' | 'PUT', headers: Record<string, string>, body: Body, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (mod === null) {
      reject(new HubNetworkError(url, `unsupported protocol in ${url}`));
      return;
    }
    const length = body.kind === 'bytes' ? body.data.length : body.size;
    const req = mod.request(u, { method, headers: { 'user-agent': USER_AGENT, 'content-length': String(length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n <= 1 << 20) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', (e) => reject(new HubNetworkError(url, `connection to ${u.host} broke: ${e.message}`, { cause: e })));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new HubNetworkError(url, `no answer from ${u.host} within ${timeoutMs / 1000}s`)));
    req.on('error', (e) => reject(e instanceof HubNetworkError ? e : new HubNetworkError(url, `cannot reach ${u.host}: ${e.message}`, { cause: e })));
    if (body.kind === 'bytes') req.end(body.data);
    else createReadStream(body.path).on('error', (e) => req.destroy(e)).pipe(req);
  });
}

function check(a: Answer, url: string, what: string): Answer {
  if (a.status >= 200 && a.status < 300) return a;
  const e = new HubHttpError(url, a.status, a.headers, a.text.slice(0, 300));
  if (a.status === 401 || a.status === 403) throw new UserError(`push_to_hub: the hub refused ${what} (${a.status}): the token has no write access to this repository`, { cause: e });
  throw new UserError(`push_to_hub: ${what} failed: ${e.message}`, { cause: e });
}

function json(a: Answer, url: string): unknown {
  try {
    return JSON.parse(a.text);
  } catch (e) {
    throw new UserError(`push_to_hub: the answer from ${url} is not JSON (is HF_ENDPOINT a Hugging Face hub?)`, { cause: e });
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue; // temp files and hidden folders never leave the machine
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

/** The sha256 of a file and its first 512 bytes (preupload's sample), read in 1 MiB chunks. */
function digestFile(path: string): { sha256: string; sample: string } {
  const h = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  let sample = '';
  try {
    for (let first = true; ; first = false) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (first) sample = buf.subarray(0, Math.min(512, n)).toString('base64');
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), sample };
}

export async function uploadFolder(o: UploadFolderOptions): Promise<UploadResult> {
  validateRepoId(o.repoId);
  const s = resolveSettings(o);
  if (s.offline) throw new UserError('push_to_hub: HF_HUB_OFFLINE is set; nothing can be uploaded');
  if (s.token === null) throw new UserError('push_to_hub needs a hub token with write access: set HF_TOKEN (or log in with `huggingface-cli login`)');
  const auth = { authorization: `Bearer ${s.token}` };
  const hubHost = new URL(s.endpoint).host;
  const revision = o.revision ?? 'main';
  const timeout = s.downloadTimeoutMs;
  const [namespace, name] = o.repoId.includes('/') ? o.repoId.split('/') : [null, o.repoId];
  const body = (v: unknown): Body => ({ kind: 'bytes', data: Buffer.from(JSON.stringify(v)) });
  const jsonHeaders = { ...auth, 'content-type': 'application/json' };

  // create_repo(exist_ok=True): 409 means it is there already
  const createUrl = `${s.endpoint}/api/repos/create`;
  const created = await send(createUrl, 'POST', jsonHeaders, body({ name, organization: namespace, type: 'model', private: o.private ?? false }), timeout);
  if (created.status !== 409) check(created, createUrl, `creating the repository ${o.repoId}`);

  const files = listFiles(o.folder).map((path) => {
    const abs = join(o.folder, ...path.split('/'));
    const { sha256, sample } = digestFile(abs);
    return { path, abs, size: statSync(abs).size, sample, oid: sha256 };
  });
  if (files.length === 0) throw new UserError(`push_to_hub: ${o.folder} holds no files to upload`);

  const preUrl = `${s.endpoint}/api/models/${o.repoId}/preupload/${pyQuote(revision, '')}`;
  const pre = json(check(await send(preUrl, 'POST', jsonHeaders, body({ files: files.map((f) => ({ path: f.path, sample: f.sample, size: f.size })) }), timeout), preUrl, 'preupload'), preUrl) as { files?: { path: string; uploadMode: string }[] };
  const mode = new Map((pre.files ?? []).map((f) => [f.path, f.uploadMode]));

  const lfs = files.filter((f) => mode.get(f.path) === 'lfs');
  if (lfs.length > 0) {
    const batchUrl = `${s.endpoint}/${o.repoId}.git/info/lfs/objects/batch`;
    const batch = json(
      check(
        await send(batchUrl, 'POST', { ...auth, accept: 'application/vnd.git-lfs+json', 'content-type': 'application/vnd.git-lfs+json' }, body({ operation: 'upload', transfers: ['basic'], objects: lfs.map((f) => ({ oid: f.oid, size: f.size })), hash_algo: 'sha256', ref: { name: revision } }), timeout),
        batchUrl,
        'the LFS batch request',
      ),
      batchUrl,
    ) as { objects?: { oid: string; error?: { message?: string }; actions?: { upload?: { href: string; header?: Record<string, string> }; verify?: { href: string; header?: Record<string, string> } } }[] };
    for (const obj of batch.objects ?? []) {
      const f = lfs.find((x) => x.oid === obj.oid);
      if (!f) continue;
      if (obj.error) throw new UserError(`push_to_hub: the hub refused ${f.path}: ${obj.error.message ?? 'LFS error'}`);
      const up = obj.actions?.upload;
      if (!up) continue; // already stored on the hub
      // the upload URL is signed: the token goes only to the hub's own host
      const sameHost = new URL(up.href).host === hubHost;
      check(await send(up.href, 'PUT', { ...(sameHost ? auth : {}), ...(up.header ?? {}) }, { kind: 'file', path: f.abs, size: f.size }, timeout), up.href, `uploading ${f.path}`);
      const verify = obj.actions?.verify;
      if (verify) {
        const sameHostV = new URL(verify.href).host === hubHost;
        check(await send(verify.href, 'POST', { ...(sameHostV ? auth : {}), ...(verify.header ?? {}), 'content-type': 'application/vnd.git-lfs+json' }, body({ oid: f.oid, size: f.size }), timeout), verify.href, `verifying ${f.path}`);
      }
    }
  }

  const lines = [JSON.stringify({ key: 'header', value: { summary: o.commitMessage ?? 'Upload merged model with fusion-bench', description: '' } })];
  for (const f of files) {
    if (mode.get(f.path) === 'lfs') {
      lines.push(JSON.stringify({ key: 'lfsFile', value: { path: f.path, algo: 'sha256', oid: lfs.find((x) => x.path === f.path)!.oid, size: f.size } }));
    } else {
      lines.push(JSON.stringify({ key: 'file', value: { content: readFileSync(f.abs).toString('base64'), path: f.path, encoding: 'base64' } }));
    }
  }
  const commitUrl = `${s.endpoint}/api/models/${o.repoId}/commit/${pyQuote(revision, '')}`;
  const committed = json(check(await send(commitUrl, 'POST', { ...auth, 'content-type': 'application/x-ndjson' }, { kind: 'bytes', data: Buffer.from(lines.join('\n') + '\n') }, timeout), commitUrl, 'the commit'), commitUrl) as { commitOid?: string; commitUrl?: string };
  return { commitOid: committed.commitOid ?? null, commitUrl: committed.commitUrl ?? null, files: files.map((f) => f.path) };
}
