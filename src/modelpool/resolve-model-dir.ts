/**
 * A model spec (local path or hub repo id) → a local directory, the way fusion_bench's
 * `resolve_repo_path` does: an existing local path wins; anything else is a repo on the Hugging Face hub
 * (downloaded into, or found offline in, the hub cache).
 */
import { UserError } from '../errors.js';
import { resolveRepoOrPath, resolveRepoPath } from '../hub/resolve-spec.js';

export type Platform = 'hf' | 'huggingface' | 'modelscope';

export function checkPlatform(value: unknown, where: string): Platform {
  if (value === undefined || value === null) return 'hf';
  if (value === 'hf' || value === 'huggingface' || value === 'modelscope') return value;
  throw new UserError(`${where}.platform: expected one of hf, huggingface, modelscope; got ${JSON.stringify(value)}`);
}

/** The files a model or processor directory needs: configs, safetensors weights, tokenizer files (no pickles). */
export const MODEL_FILE_PATTERNS: readonly string[] = ['*.json', '*.safetensors', '*.txt', '*.model'];

type HubResolver = (repoId: string, opts: { repoType: 'model' }) => Promise<string>;

let hubResolver: HubResolver | null = null;

/** Replaces how repo ids become directories (null restores the hub client); for embedding and tests. */
export function setHubResolver(fn: HubResolver | null): void {
  hubResolver = fn;
}

export async function resolveModelDir(spec: string, opts: { platform?: Platform; where?: string } = {}): Promise<string> {
  const where = opts.where ? `${opts.where}: ` : '';
  try {
    const r = resolveRepoOrPath(spec, { repoType: 'model' });
    if (r.kind === 'local') return r.path;
    if (hubResolver !== null) return await hubResolver(spec, { repoType: 'model' });
    if (opts.platform === 'modelscope') {
      throw new UserError(`${spec}: platform 'modelscope' is not supported; download the model and give its local path instead`);
    }
    return await resolveRepoPath(spec, { repoType: 'model', allowPatterns: [...MODEL_FILE_PATTERNS] });
  } catch (e) {
    if (e instanceof UserError && where !== '' && !e.message.startsWith(where)) throw new UserError(`${where}${e.message}`, { cause: e });
    throw e;
  }
}
