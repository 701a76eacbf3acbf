/**
 * Zero-shot heads on disk under `<cache_dir>/clip_zeroshot_heads/`, one JSON file per (model, task):
 * the file name carries the task and a hash of everything the head depends on (the text tower's
 * identity, the tokenizer files, the text config, the class names and templates), so a change to any
 * of them misses the cache instead of reusing a stale head. Files are written atomically; an unreadable
 * or inconsistent file is treated as a miss and rewritten.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { ensureDir } from '../../util/ensure-dir.js';
import type { ZeroShotHead } from './zero-shot-head.js';

const FORMAT = 'fusion-bench.clip-zeroshot-head.v1';

export interface HeadKeyParts {
  model: string;
  tokenizer: string;
  textConfig: unknown;
  task: string;
  classnames: readonly string[];
  templates: readonly string[];
}

export interface HeadKey {
  /** File name inside the cache folder. */
  file: string;
  hash: string;
  task: string;
  model: string;
}

export function headKey(p: HeadKeyParts): HeadKey {
  const hash = createHash('sha256')
    .update(JSON.stringify([FORMAT, p.model, p.tokenizer, p.textConfig, p.task, p.classnames, p.templates]))
    .digest('hex');
  const safeTask = p.task.replace(/[^A-Za-z0-9._-]+/g, '_');
  return { file: `${safeTask}-${hash.slice(0, 32)}.json`, hash, task: p.task, model: p.model };
}

export function headCacheDir(cacheDir: string): string {
  return join(cacheDir, 'clip_zeroshot_heads');
}

interface HeadFile {
  format: string;
  key: string;
  task: string;
  model: string;
  num_classes: number;
  dim: number;
  weights: number[];
}

/** The cached head, or null when absent, unreadable, or not for this key. */
export function readCachedHead(cacheDir: string, key: HeadKey): ZeroShotHead | null {
  const p = join(headCacheDir(cacheDir), key.file);
  if (!existsSync(p)) return null;
  let doc: HeadFile;
  try {
    doc = JSON.parse(readFileSync(p, 'utf8')) as HeadFile;
  } catch {
    return null;
  }
  if (!doc || doc.format !== FORMAT || doc.key !== key.hash || !Array.isArray(doc.weights)) return null;
  const { num_classes: n, dim } = doc;
  if (!Number.isInteger(n) || !Number.isInteger(dim) || n < 1 || dim < 1 || doc.weights.length !== n * dim) return null;
  if (!doc.weights.every((v) => typeof v === 'number' && Number.isFinite(v))) return null;
  // float32 → JSON's shortest double repr → float32 is exact.
  return { weights: Float32Array.from(doc.weights), numClasses: n, dim };
}

export function writeCachedHead(cacheDir: string, key: HeadKey, head: ZeroShotHead): string {
  const dir = headCacheDir(cacheDir);
  ensureDir(dir, 'the zero-shot head cache');
  const p = join(dir, key.file);
  const doc: HeadFile = { format: FORMAT, key: key.hash, task: key.task, model: key.model, num_classes: head.numClasses, dim: head.dim, weights: Array.from(head.weights) };
  writeFileAtomic(p, JSON.stringify(doc) + '\n');
  return p;
}
