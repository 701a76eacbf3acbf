import { UserError } from '../errors.js';
import { closestMatches } from '../util/suggest.js';
import type { RunContext } from '../run-context.js';

/**
 * What a config's `_target_` may name. Python calls targets with positional and keyword arguments; here a
 * target declares its parameter names so that `_args_` bind to them, and receives one keyword object,
 * the calling convention of every class in this library (`new TaskArithmeticAlgorithm({scaling_factor})`).
 */
export interface TargetSpec {
  /** Parameter names in Python's positional order, for binding `_args_`. */
  params?: readonly string[];
  /** Whether extra keyword arguments are accepted (Python's **kwargs). Default true. */
  acceptsExtra?: boolean;
  /**
   * Creates the object from its keyword arguments and the run's context. Loaded lazily so that start-up
   * imports nothing heavy.
   */
  load: () => Promise<TargetFactory>;
  /** One line for --help and error messages. */
  summary?: string;
  /** Each parameter's type, default and meaning, for `--info targets` (methods declare them as data). */
  paramsDoc?: readonly ParamDoc[];
}

export interface ParamDoc {
  readonly name: string;
  readonly type: string;
  readonly default: string;
  readonly doc: string;
}

export type TargetFactory = (kwargs: Record<string, unknown>, ctx: RunContext) => unknown;

export class UnknownTargetError extends UserError {
  override name = 'UnknownTargetError';
}

/**
 * A plain map from fusion_bench's dotted names (and short aliases) to factories. Nothing named in a
 * config is ever imported or executed unless it was registered here by this library's own code.
 */
export class Registry {
  private readonly targets = new Map<string, TargetSpec>();
  private readonly canonical = new Map<string, string>();

  register(name: string, spec: TargetSpec, aliases: readonly string[] = []): void {
    for (const n of [name, ...aliases]) {
      if (this.targets.has(n)) throw new Error(`registry: '${n}' is registered twice`);
      this.targets.set(n, spec);
      this.canonical.set(n, name);
    }
  }

  has(name: string): boolean {
    return this.targets.has(name);
  }

  names(): string[] {
    return [...this.targets.keys()];
  }

  /** The registered (fusion_bench) name for a name or alias. */
  canonicalName(name: string): string | undefined {
    return this.canonical.get(name);
  }

  get(name: string, where?: string): TargetSpec {
    const spec = this.targets.get(name);
    if (spec) return spec;
    const canonical = new Set(this.canonical.values());
    const close = closestMatches(name, canonical);
    const at = where ? ` (at ${where})` : '';
    const hint = close.length ? `\nDid you mean: ${close.map((c) => `'${c}'`).join(', ')}?` : '';
    throw new UnknownTargetError(
      `Error locating target '${name}'${at}: it is not a registered fusion-bench target.` +
        ` Configs can only name targets that fusion-bench provides; nothing is imported by name.` +
        hint +
        `\nRun 'fusion-bench --info targets' for the full list.`,
    );
  }
}
