/** fusion-bench as a library: the same classes the configs name, usable directly. */
export * from './method/index.js';
export { BaseModelPool, CLIPVisionModelPool, type Model } from './modelpool/index.js';
export { DummyTaskPool } from './taskpool/dummy.js';
export { FabricModelFusionProgram } from './program/fusion-program.js';
export { composeConfig, type ComposeOptions, type ComposeResult } from './config/compose.js';
export { parseOverride, parseOverrides } from './config/overrides/index.js';
export { toYaml } from './config/omegaconf/dump.js';
export { loadYaml } from './config/omegaconf/yaml.js';
export { resolveAll } from './config/omegaconf/resolve.js';
export { openSafetensors, openCheckpoint, writeSafetensors } from './tensor/index.js';
export type { StateDict, Tensor, DType } from './tensor/types.js';
export { hfHubDownload, snapshotDownload } from './hub/index.js';
export { UserError } from './errors.js';
export { Registry } from './registry/registry.js';
export { createBuiltinRegistry } from './registry/builtins.js';

import { createBuiltinRegistry } from './registry/builtins.js';
import { instantiate as instantiateWith } from './registry/instantiate.js';
import type { Registry } from './registry/registry.js';

let defaultRegistry: Registry | null = null;

/**
 * Hydra's `instantiate` over fusion-bench's registry: `await instantiate({_target_: 'fusion_bench.method.TaskArithmeticAlgorithm', scaling_factor: 0.5})`.
 * The CLIP task pool loads lazily: `await import('fusion-bench/dist/src/taskpool/clip-vision/index.js')` or through instantiate.
 */
export function instantiate(config: unknown, overrides: Record<string, unknown> = {}): Promise<unknown> {
  defaultRegistry ??= createBuiltinRegistry();
  return instantiateWith(defaultRegistry, config, overrides);
}
