/**
 * fusion-bench's OmegaConf layer over plain config data (see ../values.ts): YAML reading and writing as
 * OmegaConf 2.3 does, merge, key paths, interpolation grammar and resolution, with OmegaConf's errors.
 */
export { loadYaml, loadConfig, readPackageHeader, setOwn } from './yaml.js';
export { toYaml, representFloat } from './dump.js';
export { mergeInto, type MergeOptions } from './merge.js';
export { selectPath, setPath, deletePath, keyToPath, splitKey, formatFullKey, type PathKey, type SetOptions } from './path.js';
export { isInterpolation, isMissing, MISSING, parseInterpolation, checkInterpolationSyntax } from './interpolation.js';
export {
  resolveAll,
  resolveAt,
  resolveValueIn,
  decodeElement,
  type ResolveContext,
  type Resolver,
  type ResolveAllOptions,
} from './resolve.js';
export { OmegaConfError, isOmegaConfError, isResolutionError, type OmegaConfErrorClass } from './errors.js';
export { pyStr, pyRepr } from './pystr.js';
