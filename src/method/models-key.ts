/**
 * Keys of the sweep cache for what was computed from a set of models (task arithmetic keeps
 * Σᵢ(θᵢ − θ₀) per tensor, so a `scaling_factor` sweep reads the fine-tuned models once). A key names the
 * pool class, each model's config entry, where it was loaded from and the size and mtime of its files
 * (an instance given as an object is keyed by its identity), so an edited checkpoint is never served
 * from a stale result.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseModelPool } from '../modelpool/base-pool.js';
import type { Model } from '../modelpool/model.js';
import type { Source } from './sources.js';
import { own } from '../util/own.js';

const instanceIds = new WeakMap<object, number>();
let nextInstanceId = 1;

function instanceId(o: object): number {
  let id = instanceIds.get(o);
  if (id === undefined) {
    id = nextInstanceId++;
    instanceIds.set(o, id);
  }
  return id;
}

/** Size and mtime of a file, or of each file of a folder (one level: checkpoints are flat). */
export function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    if (!st.isDirectory()) return `${st.size}:${st.mtimeMs}`;
    const parts: string[] = [];
    for (const name of readdirSync(path).sort()) {
      try {
        const f = statSync(join(path, name));
        if (f.isFile()) parts.push(`${name}=${f.size}:${f.mtimeMs}`);
      } catch {
        parts.push(`${name}=?`);
      }
    }
    return parts.join(',');
  } catch {
    return 'no-file';
  }
}

function entryText(pool: BaseModelPool, name: string): string {
  const models = pool.config.models as unknown;
  const entry = Array.isArray(models) ? models[Number(name)] : (models ? own(models as Record<string, unknown>, name) : undefined);
  return JSON.stringify(entry ?? null, (_k, v: unknown) => (v !== null && typeof v === 'object' && 'stateDict' in (v as object) ? `instance#${instanceId(v as object)}` : v));
}

function modelText(pool: BaseModelPool, s: Source): string {
  const m: Model = s.model;
  if (pool.isInstanceModel(s.name)) return `${s.name}:instance#${instanceId(m)}`;
  return `${s.name}:${entryText(pool, s.name)}:${m.source}:${fileStamp(m.source)}`;
}

/** What identifies these loaded models (in order) for keys of the sweep cache. */
export function modelsKey(pool: BaseModelPool, sources: readonly Source[]): string {
  return [pool.constructor.name, ...sources.map((s) => modelText(pool, s))].join('\n');
}
