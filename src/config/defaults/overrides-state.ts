import type { ConfigValue } from '../values.js';
import { isDict } from '../values.js';
import { ConfigCompositionError, DefaultsListValueError } from '../hydra-errors.js';
import type { ConfigRepository } from '../repository.js';
import { pythonTypeName } from '../repository.js';
import { GroupDefault, type InputDefault } from './elements.js';

/** What the defaults-list builder needs of a parsed command-line override (engineer A's Override). */
export interface OverrideLike {
  readonly type: 'CHANGE' | 'ADD' | 'FORCE_ADD' | 'DEL';
  readonly keyOrGroup: string;
  readonly package: string | null;
  readonly input: string;
  readonly valueType: string | null;
  isSweep(): boolean;
  isHydraOverride(): boolean;
  /** The value with quotes removed (config data); null for `~key`. */
  convertedValue(): unknown;
}

/** `key@pkg`, the key a group override addresses. */
export function overrideKey(o: OverrideLike): string {
  return o.package === null ? o.keyOrGroup : `${o.keyOrGroup}@${o.package}`;
}

interface Deletion {
  name: string | null;
  used: boolean;
}

interface OverrideMetadata {
  externalOverride: boolean;
  containingConfigPath: string | null;
  used: boolean;
  relativeKey: string | null;
}

/**
 * The overrides' side of building a defaults list (Hydra's `Overrides`): command-line group choices,
 * appends (+group=opt), deletions (~group), the `override` entries found in the tree, and the choices
 * known so far.
 */
export class OverridesState {
  readonly overrideChoices = new Map<string, string | string[] | null>();
  readonly overrideMetadata = new Map<string, OverrideMetadata>();
  readonly appendGroupDefaults: GroupDefault[] = [];
  readonly configOverrides: OverrideLike[] = [];
  readonly knownChoices = new Map<string, string | null>();
  readonly knownChoicesPerGroup = new Map<string, Set<string>>();
  readonly deletions = new Map<string, Deletion>();

  constructor(repo: ConfigRepository, overrides: readonly OverrideLike[]) {
    for (const o of overrides) {
      if (o.isSweep()) continue;
      const isGroup = repo.groupExists(o.keyOrGroup);
      const value = o.convertedValue() as ConfigValue;
      if (isDict(value) || !isGroup) {
        this.configOverrides.push(o);
      } else if (o.type === 'FORCE_ADD') {
        throw new ConfigCompositionError(`force-add of config groups is not supported: '${o.input}'`);
      } else if (o.type === 'DEL') {
        if (value !== null && value !== undefined && typeof value !== 'string') {
          throw new DefaultsListValueError(`Config group override deletion value must be a string : ${o.input}`);
        }
        this.deletions.set(overrideKey(o), { name: (value as string | null | undefined) ?? null, used: false });
      } else if (typeof value !== 'string' && !Array.isArray(value)) {
        throw new DefaultsListValueError(`Config group override must be a string or a list. Got ${pythonTypeName(value)}`);
      } else if (o.type === 'ADD') {
        if (o.keyOrGroup === '') throw new ConfigCompositionError(`Could not append '${o.input}': the override names no config group (nothing before '=')`);
        this.appendGroupDefaults.push(
          new GroupDefault({
            group: o.keyOrGroup,
            package: o.package,
            value: Array.isArray(value) ? value.map((x) => String(x)) : value,
            externalAppend: true,
          }),
        );
      } else {
        const key = overrideKey(o);
        this.overrideChoices.set(key, Array.isArray(value) ? value.map((x) => String(x)) : value);
        this.overrideMetadata.set(key, { externalOverride: true, containingConfigPath: null, used: false, relativeKey: null });
      }
    }
  }

  addOverride(parentConfigPath: string, d: GroupDefault): void {
    const key = d.getOverrideKey();
    if (this.overrideChoices.has(key)) return;
    this.overrideChoices.set(key, d.value);
    this.overrideMetadata.set(key, {
      externalOverride: false,
      containingConfigPath: parentConfigPath,
      used: false,
      relativeKey: d.getRelativeOverrideKey(),
    });
  }

  isOverridden(d: InputDefault): boolean {
    return d instanceof GroupDefault && this.overrideChoices.has(d.getOverrideKey());
  }

  overrideDefaultOption(d: GroupDefault): void {
    const key = d.getOverrideKey();
    if (!this.overrideChoices.has(key)) return;
    d.value = this.overrideChoices.get(key)!;
    d.configNameOverridden = true;
    this.overrideMetadata.get(key)!.used = true;
  }

  ensureOverridesUsed(): void {
    for (const [key, meta] of this.overrideMetadata) {
      if (meta.used) continue;
      const group = key.split('@')[0];
      const choices = this.knownChoicesPerGroup.get(group) ?? new Set<string>();
      let msg: string;
      if (choices.size > 1) msg = `Could not override '${key}'.\nDid you mean to override one of ${[...choices].sort().join(', ')}?`;
      else if (choices.size === 1) msg = `Could not override '${key}'.\nDid you mean to override ${[...choices][0]}?`;
      else msg = `Could not override '${key}'. No match in the defaults list.`;
      if (meta.containingConfigPath !== null) msg = `In '${meta.containingConfigPath}': ${msg}`;
      if (meta.externalOverride) msg += `\nTo append to your default list use +${key}=${choiceToStr(this.overrideChoices.get(key) ?? null)}`;
      throw new ConfigCompositionError(msg);
    }
  }

  ensureDeletionsUsed(): void {
    for (const [key, deletion] of this.deletions) {
      if (deletion.used) continue;
      const desc = deletion.name !== null ? `${key}=${deletion.name}` : key;
      throw new ConfigCompositionError(`Could not delete '${desc}'. No match in the defaults list`);
    }
  }

  setKnownChoice(d: InputDefault): void {
    if (!(d instanceof GroupDefault)) return;
    const key = d.getOverrideKey();
    if (!this.knownChoices.has(key)) {
      this.knownChoices.set(key, d.getName());
    } else {
      const prev = this.knownChoices.get(key) ?? null;
      if (d.getName() !== prev) {
        throw new ConfigCompositionError(`Multiple values for ${key}. To override a value use 'override ${key}: ${prev}'`);
      }
    }
    const group = d.getGroupPath();
    let set = this.knownChoicesPerGroup.get(group);
    if (set === undefined) this.knownChoicesPerGroup.set(group, (set = new Set()));
    set.add(key);
  }

  isDeleted(d: InputDefault): boolean {
    if (!(d instanceof GroupDefault)) return false;
    const deletion = this.deletions.get(d.getOverrideKey());
    if (deletion === undefined) return false;
    return deletion.name === null || deletion.name === d.getName();
  }

  delete(d: InputDefault): void {
    d.deleted = true;
    this.deletions.get(d.getOverrideKey())!.used = true;
  }
}

/** Python's str() of a choice, as Hydra's messages print it. */
export function choiceToStr(v: string | string[] | null): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `[${v.map((x) => `'${x}'`).join(', ')}]`;
  return v;
}
