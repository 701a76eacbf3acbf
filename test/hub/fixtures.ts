import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';

export const CLIP = 'openai/clip-vit-base-patch32';
export const DATASET = 'tanganke/svhn';
export const TOKEN = 'hf_test_token';

/** Deterministic pseudo-random bytes (a model file stand-in). */
export function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const gitBlobSha1 = (b: Buffer) => createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${b.length}\0`), b])).digest('hex');

function put(root: string, rel: string, data: Buffer | string): void {
  const p = join(root, ...rel.split('/'));
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
}

export interface Fixture {
  dir: string;
  /** Fixture root for startFakeHub. */
  root: string;
  /** An empty HF_HOME for the test. */
  home: string;
  files: Record<string, Buffer>;
  cleanup(): void;
}

/** A small hub: a CLIP-like model with a tag, gated and private models, and a dataset with a parquet conversion. */
export function makeFixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'fb-hub-'));
  const root = join(dir, 'hub-root');
  const home = join(dir, 'hf-home');
  mkdirSync(home);
  const files: Record<string, Buffer> = {
    config: Buffer.from(JSON.stringify({ model_type: 'clip', projection_dim: 512 })),
    configV1: Buffer.from(JSON.stringify({ model_type: 'clip', projection_dim: 256 })),
    weights: bytes(300_000, 7),
    nested: Buffer.from('nested text\n'),
    readme: Buffer.from('# svhn\n'),
    train: bytes(20_000, 11),
    test: bytes(10_000, 13),
    converted: bytes(15_000, 17),
  };
  put(root, `models/${CLIP}/main/config.json`, files.config as Buffer);
  put(root, `models/${CLIP}/main/model.safetensors`, files.weights as Buffer);
  put(root, `models/${CLIP}/main/sub/dir/notes.txt`, files.nested as Buffer);
  put(root, `models/${CLIP}/v1.0/config.json`, files.configV1 as Buffer);
  put(root, 'models/org/gated-model/main/config.json', files.config as Buffer);
  put(root, 'models/org/private-model/main/config.json', files.config as Buffer);
  put(root, `datasets/${DATASET}/main/README.md`, files.readme as Buffer);
  put(root, `datasets/${DATASET}/main/data/train-00000-of-00001.parquet`, files.train as Buffer);
  put(root, `datasets/${DATASET}/main/data/test-00000-of-00001.parquet`, files.test as Buffer);
  put(root, `datasets/${DATASET}/${encodeURIComponent('refs/convert/parquet')}/default/train/0000.parquet`, files.converted as Buffer);
  return { dir, root, home, files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment a test hands the hub client: its own HF_HOME, the fake endpoint, no token, quiet. */
export function envFor(fx: Fixture, endpoint: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { HF_HOME: fx.home, HF_ENDPOINT: endpoint, HF_HUB_DISABLE_PROGRESS_BARS: '1', HF_HUB_ETAG_TIMEOUT: '5', HF_HUB_DOWNLOAD_TIMEOUT: '5', ...extra };
}

let homes = 0;
/** envFor with a new, empty HF_HOME of its own (each test starts from an empty cache). */
export function freshEnvFor(fx: Fixture, endpoint: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> & { HF_HOME: string } {
  const home = join(fx.dir, `home-${++homes}`);
  mkdirSync(home);
  return { ...envFor(fx, endpoint, extra), HF_HOME: home };
}
