/**
 * A model spec (local path or hub repo id) → a local directory, the way fusion_bench's
 * `resolve_repo_path` does: an existing local path wins; anything else is a repo on the hub (or the
 * hub cache when offline).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../errors.js';

export type Platform = 'hf' | 'huggingface' | 'modelscope';

export function checkPlatform(value: unknown, where: string): Platform {
  if (value === undefined || value === null) return 'hf';
  if (value === 'hf' || value === 'huggingface' || value === 'modelscope') return value;
  throw new UserError(`${where}.platform: expected one of hf, huggingface, modelscope; got ${JSON.stringify(value)}`);
}

function looksLikePath(spec: string): boolean {
  return isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('~') || spec === '.' || spec === '..' || spec.includes('\\');
}

/** The hub side, found at run time so that this module does not depend on the hub client's layout. */
type HubResolver = (repoId: string, opts: { repoType: 'model' }) => Promise<string>;

let hubResolver: HubResolver | null = null;

/** Lets the program (or a test) supply how repo ids become directories. */
export function setHubResolver(fn: HubResolver | null): void {
  hubResolver = fn;
}

async function defaultHubResolver(): Promise<HubResolver | null> {
  const specifier = '../hub/index.js';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch {
    return null;
  }
  const fn = mod.resolveRepoOrPath ?? mod.snapshotDownload;
  if (typeof fn !== 'function') return null;
  return (repoId, opts) => (fn as (id: string, o: object) => Promise<string>)(repoId, { repoType: opts.repoType, repo_type: opts.repoType });
}

export async function resolveModelDir(spec: string, opts: { platform?: Platform; where?: string } = {}): Promise<string> {
  const where = opts.where ? `${opts.where}: ` : '';
  const expanded = spec.startsWith('~/') ? resolve(homedir(), spec.slice(2)) : spec;
  if (existsSync(expanded)) return resolve(expanded);
  if (looksLikePath(spec)) throw new UserError(`${where}model path ${spec} does not exist`);
  if (opts.platform === 'modelscope') {
    throw new UserError(`${where}platform 'modelscope' is not supported; download ${spec} and give its local path instead`);
  }
  const hub = hubResolver ?? (await defaultHubResolver());
  if (hub === null) {
    throw new UserError(`${where}${spec} is neither a local directory nor resolvable: this build has no Hugging Face hub client`);
  }
  return hub(spec, { repoType: 'model' });
}
