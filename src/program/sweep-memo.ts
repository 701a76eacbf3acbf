import type { Registry, TargetSpec } from '../registry/registry.js';
import { runtime } from './runtime.js';

/** Prefix of the runtime.memo keys that hold shared component instances. */
export const INSTANCE_KEY_PREFIX = 'sweep-instance:';

/**
 * A sweep's jobs differ mostly in the method's parameters; their task pools are built from the same
 * config. A task pool owns its datasets, zero-shot heads and the pretrained CLIP checkpoint, so the
 * jobs of a sweep share one instance per (target, arguments) instead of rebuilding it. Only targets
 * the predicate names are shared, and only when their arguments are plain config data.
 *
 * The program's registry is the one it was built with, so the sharing is installed on that instance.
 */
export function shareInstances(registry: Registry, share: (canonicalName: string) => boolean): void {
  const get = registry.get.bind(registry);
  registry.get = (name: string, where?: string): TargetSpec => {
    const spec = get(name, where);
    const canonical = registry.canonicalName(name) ?? name;
    if (!share(canonical)) return spec;
    return {
      ...spec,
      load: async () => {
        const factory = await spec.load();
        return (kwargs) => {
          const key = instanceKey(canonical, kwargs);
          if (key === null) return factory(kwargs);
          if (runtime.memo.has(key)) return runtime.memo.get(key);
          const made = factory(kwargs);
          // A failed construction is not kept: the next job reports its own error.
          runtime.memo.set(key, made);
          if (made instanceof Promise) made.catch(() => runtime.memo.delete(key));
          return made;
        };
      },
    };
  };
}

/** Task pools (fusion_bench.taskpool.*) are the expensive, evaluation-only components worth sharing. */
export function isTaskPoolTarget(canonicalName: string): boolean {
  return canonicalName.startsWith('fusion_bench.taskpool.');
}

/** The memo key for a target called with these arguments; null when they are not plain data. */
export function instanceKey(target: string, kwargs: Record<string, unknown>): string | null {
  const text = stableJson(kwargs);
  return text === null ? null : `${INSTANCE_KEY_PREFIX}${target}:${text}`;
}

function stableJson(v: unknown): string | null {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : `"${String(v)}"`;
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (const x of v) {
      const s = stableJson(x);
      if (s === null) return null;
      parts.push(s);
    }
    return `[${parts.join(',')}]`;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const parts: string[] = [];
    for (const k of Object.keys(v as object).sort()) {
      const s = stableJson((v as Record<string, unknown>)[k]);
      if (s === null) return null;
      parts.push(`${JSON.stringify(k)}:${s}`);
    }
    return `{${parts.join(',')}}`;
  }
  return null;
}

/** Closes the shared instances (releasing file handles) and forgets them. */
export async function releaseSharedInstances(): Promise<void> {
  for (const [key, value] of [...runtime.memo.entries()]) {
    if (!key.startsWith(INSTANCE_KEY_PREFIX)) continue;
    runtime.memo.delete(key);
    try {
      const inst = (await value) as { close?: () => unknown } | null;
      if (inst && typeof inst.close === 'function') await inst.close();
    } catch {
      // a construction that failed has nothing to close
    }
  }
}
