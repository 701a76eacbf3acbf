/**
 * A method's config keys (`method.*` overrides and method YAML files): every registered merging method
 * built through the registry with mutated values of its declared parameters.
 */
import fc from 'fast-check';
import { METHODS } from '../../src/method/index.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { instantiate } from '../../src/registry/instantiate.js';
import { runContext } from '../../src/run-context.js';
import type { FuzzTarget } from '../harness.js';

const NAMES = [...new Set(Object.keys(METHODS).filter((n) => n.split('.').length === 3))];
const VALUES: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1, 0.5, 1e308, -1e308, Number.NaN, Number.POSITIVE_INFINITY, '', 'sum', 'dis-mean', 'x', '__proto__', [], {}, [0.5, 0.5], [[1]], ['a']),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.array(fc.double(), { maxLength: 4 }),
);
const KEYS = ['scaling_factor', 'threshold', 'remove_keys', 'merge_func', 'sparsity_ratio', 'only_on_linear_weights', 'rescale', 'weights', 'normalize', 't', 'alpha', 'exclude_keys', 'common_space_fraction', 'iter_num', 'tall_mask_lambda', 'name', 'lr', 'max_steps', 'batch_size', 'init_values', 'clamp_weights', 'num_fisher_examples', 'learning_rate', 'num_steps', 'seed', '__proto__', 'constructor', 'unknown_key'];

export interface MethodConfigInput {
  target: string;
  config: Record<string, unknown>;
}

export const methodConfigTarget: FuzzTarget<MethodConfigInput> = {
  name: 'method-config',
  description: "a merging method's config: every registered method built through the registry (parameters declared once, validated there)",
  arbitrary: () =>
    fc.record({
      target: fc.constantFrom(...NAMES),
      config: fc.array(fc.tuple(fc.constantFrom(...KEYS), VALUES), { maxLength: 5 }).map((kv) => {
        const o: Record<string, unknown> = Object.create(null);
        for (const [k, v] of kv) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        return { ...o };
      }),
    }),
  async run({ target, config }) {
    await instantiate(createBuiltinRegistry(), { ...config, _target_: target }, {}, 'method', runContext({ status: null }));
  },
  show: (i) => JSON.stringify(i).slice(0, 300),
};
