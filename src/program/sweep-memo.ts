import type { Registry, TargetSpec } from '../registry/registry.js';
import type { RunContext, SweepCache } from '../run-context.js';

/** Prefix of the sweep cache keys that hold shared component instances. */
export const INSTANCE_KEY_PREFIX = 'sweep-instance:';

/**
 * A sweep's jobs differ mostly in the method's parameters; their task pools are built from the same
 * config. A task pool owns its datasets, zero-shot heads and the pretrained CLIP checkpoint, so the
 * jobs of a sweep share one instance per (target, arguments) instead of rebuilding it. Only targets
 * the predicate names are shared, and only when their arguments are plain config data.
 *
 * The program's registry is the one it was built with, so the sharing is installed on that instance.
 * A shared instance is handed each job's context (`attach`), so its status lines and profile go to the
 * job that uses it; the seed is part of the key, since seeded splits depend on it.
 */
export function shareInstances(registry: Registry, share: (canonicalName: string) => boolean, cache: SweepCache): void {
  const get = registry.get.bind(registry);
  registry.get = (name: string, where?: string): TargetSpec => {
    const spec = get(name, where);
    const canonical = registry.canonicalName(name) ?? name;
    if (!share(canonical)) return spec;
    return {
      ...spec,
      load: async () => {
        const factory = await spec.load();
        return (kwargs, ctx) => {
          const key = instanceKey(canonical, { kwargs, seed: ctx.seed });
          if (key === null) return factory(kwargs, ctx);
          if (cache.has(key)) return Promise.resolve(cache.get(key)).then((inst) => attach(inst, ctx));
          const made = factory(kwargs, ctx);
          // A failed construction is not kept: the next job reports its own error.
          cache.set(key, made);
          if (made instanceof Promise) made.catch(() => cache.delete(key));
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

function attach(inst: unknown, ctx: RunContext): unknown {
  const a = inst as { attach?: (c: RunContext) => void } | null;
  if (a && typeof a.attach === 'function') a.attach(ctx);
  return inst;
}

/** Closes the shared instances (releasing file handles) and forgets them. */
export async function releaseSharedInstances(cache: SweepCache): Promise<void> {
  for (const [key, value] of [...cache.entries()]) {
    if (!key.startsWith(INSTANCE_KEY_PREFIX)) continue;
    cache.delete(key);
    try {
      const inst = (await value) as { close?: () => unknown } | null;
      if (inst && typeof inst.close === 'function') await inst.close();
    } catch {
      // a construction that failed has nothing to close
    }
  }
}
