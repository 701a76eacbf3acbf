import { type ConfigDict, type ConfigValue, cloneValue, isDict } from '../values.js';
import { OmegaConfError } from './errors.js';
import { formatFullKey, type PathKey } from './keys.js';
import { setOwn } from './yaml.js';
import { isMissing, nodeInterpolationTarget } from './interpolation.js';

export interface MergeOptions {
  /** Struct mode: a key that `dest` lacks is an error (ConfigKeyError), as after Hydra's composition. */
  struct?: boolean;
  /** Where `dest` sits in `root`, for error messages (`full_key`) and relative interpolations. */
  path?: readonly PathKey[];
  /**
   * The whole config `dest` belongs to, so `dest` values like `${a.b}` that point at a dict are merged into a
   * copy of it. Defaults to `dest` when `path` is empty.
   */
  root?: ConfigDict;
}

/**
 * `OmegaConf.merge` of `src` into `dest` for untyped configs, in place: dicts merge recursively, lists and
 * scalars replace, `???` in src keeps an existing value, null or an interpolation string replaces a dict,
 * a dict replaces a scalar. `src` is never modified (values are copied). A non-dict `src` is an error.
 */
export function mergeInto(dest: ConfigDict, src: ConfigValue, opts: MergeOptions = {}): ConfigDict {
  if (!isDict(src)) {
    throw new OmegaConfError('ValidationError', `Cannot merge ${src === null ? 'None' : Array.isArray(src) ? 'ListConfig' : typeof src} into DictConfig`, {
      fullKey: formatFullKey(opts.path ?? []),
      objectType: 'dict',
    });
  }
  // Without a path, dest is the root: its own node interpolations are dereferenced against it.
  const effective: MergeOptions = opts.root === undefined && (opts.path ?? []).length === 0 ? { ...opts, root: dest } : opts;
  try {
    mergeDict(dest, src, opts.path ?? [], effective);
  } catch (e) {
    // OmegaConf's merge_with reports a dict/list mismatch anywhere inside at the node it was called on.
    if (e instanceof KindMismatch) throw mismatchError(opts.path ?? [], 'dict');
    throw e;
  }
  return dest;
}

class KindMismatch extends Error {}

/** `Cannot merge DictConfig with ListConfig` (OmegaConf prints this text for either direction). */
export function mismatchError(path: readonly PathKey[], objectType: 'dict' | 'list'): OmegaConfError {
  return new OmegaConfError('ConfigTypeError', 'Cannot merge DictConfig with ListConfig', { fullKey: formatFullKey(path), objectType });
}

function mergeDict(dest: ConfigDict, src: ConfigDict, path: readonly PathKey[], opts: MergeOptions): void {
  for (const key of Object.keys(src)) {
    const srcValue = src[key]!;
    const childPath = [...path, key];
    if (!Object.prototype.hasOwnProperty.call(dest, key)) {
      if (opts.struct) {
        throw new OmegaConfError('ConfigKeyError', `Key '${key}' is not in struct`, { fullKey: formatFullKey(childPath), objectType: 'dict' });
      }
      setOwn(dest, key, cloneValue(srcValue));
      continue;
    }
    let destValue = dest[key]!;
    if (typeof destValue === 'string' && opts.root !== undefined && (isDict(srcValue) || Array.isArray(srcValue))) {
      // OmegaConf dereferences a node interpolation in dest that points at a container and merges into a copy.
      const target = nodeInterpolationTarget(opts.root, path, destValue);
      if (target !== undefined && (isDict(target) || Array.isArray(target))) {
        destValue = cloneValue(target);
        dest[key] = destValue;
      }
    }
    if (isDict(destValue) && isDict(srcValue)) mergeDict(destValue, srcValue, childPath, opts);
    else if ((isDict(destValue) && Array.isArray(srcValue)) || (Array.isArray(destValue) && isDict(srcValue))) throw new KindMismatch();
    else if (isMissing(srcValue)) continue;
    else dest[key] = cloneValue(srcValue);
  }
}
