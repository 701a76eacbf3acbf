import { type ConfigDict, type ConfigValue, cloneValue, isDict } from '../values.js';
import { OmegaConfError } from './errors.js';
import { childOf, formatFullKey, parseIndex, type PathKey, splitKey } from './keys.js';
import { mergeInto, mismatchError } from './merge.js';
import { setOwn } from './yaml.js';

export { splitKey, formatFullKey, childOf, type PathKey } from './keys.js';

type Container = ConfigDict | ConfigValue[];

function isContainer(v: ConfigValue | undefined): v is Container {
  return Array.isArray(v) || isDict(v);
}

/** Converts an OmegaConf key (`a.b`, `a[0]`, `a.0`, `[a]`) to path steps, list indices as numbers where the data has lists. */
export function keyToPath(cfg: ConfigValue, key: string): PathKey[] | undefined {
  const parts = key === '' ? [] : splitKey(key);
  const out: PathKey[] = [];
  let node: ConfigValue | undefined = cfg;
  for (const part of parts) {
    if (!isContainer(node)) return undefined;
    const step = childOf(node, part);
    out.push(step.key);
    node = step.value;
  }
  return out;
}

/**
 * `OmegaConf.select(cfg, key)` on raw data (interpolations are not resolved): the value, or undefined where
 * the key is absent or passes through a non-container. An empty key selects `cfg`.
 */
export function selectPath(cfg: ConfigValue, key: string): ConfigValue | undefined {
  if (key === '') return cfg;
  let node: ConfigValue | undefined = cfg;
  for (const part of splitKey(key)) {
    if (!isContainer(node)) return undefined;
    node = childOf(node, part).value;
  }
  return node;
}

export interface SetOptions {
  /** Struct mode: only existing keys may be set (Hydra's composed config). */
  struct: boolean;
  /** `++key=value`: add the key even in struct mode. */
  forceAdd?: boolean;
}

/**
 * `OmegaConf.update(cfg, key, value, merge=True, force_add=...)`: intermediate non-containers (missing keys,
 * strings, numbers) become empty dicts; a dict value is merged into an existing dict; otherwise the value
 * replaces. Struct violations throw ConfigAttributeError / ConfigKeyError with OmegaConf's message.
 */
export function setPath(cfg: ConfigDict, key: string, value: ConfigValue, opts: SetOptions): void {
  const parts = splitKey(key);
  const struct = opts.struct && !opts.forceAdd;
  let root: Container = cfg;
  const path: PathKey[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    const step = childOf(root, parts[i]!);
    let next = step.value;
    if (!isContainer(next)) {
      next = {};
      assignChild(root, step.key, parts[i]!, next, path, struct, 'ConfigKeyError');
    }
    path.push(step.key);
    root = next;
  }
  const last = parts[parts.length - 1]!;
  const step = childOf(root, last);
  const existing = step.value;
  if (isDict(value) && isDict(existing)) {
    mergeInto(existing, value, { struct, path: [...path, step.key], root: cfg });
    return;
  }
  // update(merge=True) calls merge_with on a container node: a list replaces a list, mixed kinds fail.
  if ((isDict(existing) && Array.isArray(value)) || (Array.isArray(existing) && isDict(value))) {
    throw mismatchError([...path, step.key], isDict(existing) ? 'dict' : 'list');
  }
  assignChild(root, step.key, last, cloneValue(value), path, struct, 'ConfigAttributeError');
}

function assignChild(
  root: Container,
  key: PathKey,
  rawKey: string,
  value: ConfigValue,
  parentPath: PathKey[],
  struct: boolean,
  structErrorClass: 'ConfigAttributeError' | 'ConfigKeyError',
): void {
  if (Array.isArray(root)) {
    const i = typeof key === 'number' ? key : parseIndex(rawKey);
    if (i === null) {
      throw new OmegaConfError('ConfigTypeError', `Index '${rawKey}' (str) is not an int`, { fullKey: formatFullKey(parentPath), objectType: 'list' });
    }
    if (i < 0 || i >= root.length) {
      throw new OmegaConfError('ConfigIndexError', 'list assignment index out of range', { fullKey: formatFullKey([...parentPath, i]), objectType: 'list' });
    }
    root[i] = value;
    return;
  }
  const k = String(key);
  if (struct && !Object.prototype.hasOwnProperty.call(root, k)) {
    throw new OmegaConfError(structErrorClass, `Key '${k}' is not in struct`, { fullKey: formatFullKey([...parentPath, k]), objectType: 'dict' });
  }
  setOwn(root, k, value);
}

/**
 * Deletes `key` (as `del node[last]` under `open_dict`): returns the removed value; throws ConfigKeyError
 * when the key does not exist.
 */
export function deletePath(cfg: ConfigDict, key: string): ConfigValue {
  const parts = splitKey(key);
  const last = parts[parts.length - 1]!;
  const parentKey = parts.slice(0, -1);
  let parent: ConfigValue | undefined = cfg;
  for (const part of parentKey) parent = isContainer(parent) ? childOf(parent, part).value : undefined;
  if (!isContainer(parent)) throw new OmegaConfError('ConfigKeyError', `Key '${key}' not found`);
  const step = childOf(parent, last);
  if (step.value === undefined) throw new OmegaConfError('ConfigKeyError', `Key '${last}' not found`, { fullKey: key, objectType: Array.isArray(parent) ? 'list' : 'dict' });
  if (Array.isArray(parent)) parent.splice(step.key as number, 1);
  else delete parent[String(step.key)];
  return step.value;
}
