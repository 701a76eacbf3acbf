/** Every fuzz target, by name. A new parser of user input gets a target here (and a seed corpus). */
import type { FuzzTarget } from '../harness.js';
import { datasetCardTarget } from './dataset-card.js';
import { defaultsTarget } from './defaults.js';
import { hubCacheTarget } from './hub-cache.js';
import { jpegTarget, pngTarget } from './images.js';
import { interpolationTarget } from './interpolation.js';
import { modelConfigTarget } from './model-config.js';
import { overridesTarget } from './overrides.js';
import { parquetTarget } from './parquet.js';
import { safetensorsTarget } from './safetensors.js';
import { tokenizerTarget } from './tokenizer.js';
import { yamlTarget } from './yaml.js';
import { mergingWeightsTarget } from './merging-weights.js';
import { methodConfigTarget } from './method-config.js';
import { slurmOutputTarget } from './slurm-output.js';

export const TARGETS: ReadonlyArray<FuzzTarget<any>> = [
  overridesTarget,
  yamlTarget,
  interpolationTarget,
  defaultsTarget,
  safetensorsTarget,
  modelConfigTarget,
  tokenizerTarget,
  datasetCardTarget,
  parquetTarget,
  pngTarget,
  jpegTarget,
  hubCacheTarget,
  mergingWeightsTarget,
  slurmOutputTarget,
  methodConfigTarget,
];

export function targetNamed(name: string): FuzzTarget<any> | undefined {
  return TARGETS.find((t) => t.name === name);
}
