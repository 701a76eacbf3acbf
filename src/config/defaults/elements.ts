import { type ConfigValue, isDict } from '../values.js';
import { DefaultsListValueError } from '../hydra-errors.js';
import { pyRepr } from '../omegaconf/pystr.js';

/**
 * Elements of a defaults list, after Hydra 1.3's core/default_element.py (version_base 1.3 semantics:
 * no `_name_`, no legacy package headers). An element is resolved against its parent (base dir and final
 * package) while the tree is built, so elements are mutable and each tree gets fresh ones.
 */
export abstract class InputDefault {
  package: string | null = null;
  parentBaseDir: string | null = null;
  parentPackage: string | null = null;
  packageHeader: string | null = null;
  primary = false;
  deleted: boolean | null = null;

  abstract isSelf(): boolean;
  abstract isOptional(): boolean;
  abstract getGroupPath(): string;
  abstract getConfigPath(): string;
  abstract getFinalPackage(defaultToPackageHeader?: boolean): string;
  abstract relativeGroupPath(): string;
  abstract getName(): string | null;
  abstract isInterpolation(): boolean;
  abstract isMissing(): boolean;
  abstract isOverride(): boolean;
  abstract isExternalAppend(): boolean;

  isVirtual(): boolean {
    return false;
  }

  isDeleted(): boolean {
    return this.deleted === true;
  }

  updateParent(parentBaseDir: string | null, parentPackage: string | null): void {
    this.parentBaseDir = parentBaseDir;
    this.parentPackage = parentPackage;
    if (this.package !== null && this.package.includes('_group_')) {
      this.package = `_global_.${this.package.replaceAll('_group_', this.getDefaultPackage())}`;
    }
  }

  getDefaultPackage(): string {
    return this.getGroupPath().replaceAll('/', '.');
  }

  /** A package header is always absolute: it is stored with a `_global_` prefix. */
  setPackageHeader(header: string | null): void {
    if (header === null) return;
    let h = header;
    if (h !== '_global_' && !h.startsWith('_global_.')) h = h === '' ? '_global_' : `_global_.${h}`;
    this.packageHeader = h;
  }

  getPackage(defaultToPackageHeader = true): string | null {
    if (this.package === null && defaultToPackageHeader) return this.packageHeader;
    return this.package;
  }

  protected finalPackage(parentPackage: string | null, pkg: string | null): string {
    if (parentPackage === null) throw new Error('internal: parent package not set');
    const p = pkg ?? this.relativeGroupPath().replaceAll('/', '.');
    let ret: string;
    if (parentPackage === '') ret = p;
    else ret = p === '' ? parentPackage : `${parentPackage}.${p}`;
    const lgi = ret.lastIndexOf('_global_');
    return lgi === -1 ? ret : ret.slice(lgi + '_global_'.length + 1);
  }

  /** `group` or `group@package` — the key a command-line override and hydra.runtime.choices use. */
  getOverrideKey(): string {
    const defaultPkg = this.getDefaultPackage();
    let finalPkg = this.getFinalPackage(false);
    let key = this.getGroupPath();
    if (defaultPkg !== finalPkg) {
      if (finalPkg === '') finalPkg = '_global_';
      key = `${key}@${finalPkg}`;
    }
    return key;
  }
}

export class VirtualRoot extends InputDefault {
  override isVirtual(): boolean {
    return true;
  }
  isSelf(): boolean {
    return false;
  }
  isOptional(): boolean {
    return false;
  }
  getGroupPath(): string {
    throw new Error('internal: VirtualRoot has no group');
  }
  getConfigPath(): string {
    return '<root>';
  }
  getFinalPackage(): string {
    throw new Error('internal: VirtualRoot has no package');
  }
  relativeGroupPath(): string {
    throw new Error('internal: VirtualRoot has no group');
  }
  getName(): string | null {
    throw new Error('internal: VirtualRoot has no name');
  }
  isInterpolation(): boolean {
    return false;
  }
  isMissing(): boolean {
    return false;
  }
  isOverride(): boolean {
    return false;
  }
  isExternalAppend(): boolean {
    return false;
  }
}

/** A config referenced by path (`- base`, `- /db/base_db@`, `- _self_`), not through a group choice. */
export class ConfigDefault extends InputDefault {
  path: string;
  optional: boolean;

  constructor(opts: { path: string; package?: string | null; optional?: boolean; primary?: boolean }) {
    super();
    this.path = opts.path;
    this.package = opts.package ?? null;
    this.optional = opts.optional ?? false;
    this.primary = opts.primary ?? false;
    if (this.isSelf() && this.package !== null) throw new DefaultsListValueError('_self_@PACKAGE is not supported');
    if (this.package === '_here_') this.package = '';
  }

  isSelf(): boolean {
    return this.path === '_self_';
  }
  isOptional(): boolean {
    return this.optional;
  }

  private split(): { path: string; absolute: boolean } {
    return this.path.startsWith('/') ? { path: this.path.slice(1), absolute: true } : { path: this.path, absolute: false };
  }

  getGroupPath(): string {
    const { path, absolute } = this.split();
    const idx = path.lastIndexOf('/');
    const group = idx === -1 ? '' : path.slice(0, idx);
    if (absolute) return group;
    const base = this.requireBaseDir();
    if (base === '') return group;
    return group === '' ? base : `${base}/${group}`;
  }

  getName(): string | null {
    const idx = this.path.lastIndexOf('/');
    return idx === -1 ? this.path : this.path.slice(idx + 1);
  }

  getConfigPath(): string {
    const { path, absolute } = this.split();
    if (absolute) return path;
    const base = this.requireBaseDir();
    return base === '' ? path : `${base}/${path}`;
  }

  getFinalPackage(defaultToPackageHeader = true): string {
    return this.finalPackage(this.parentPackage, this.getPackage(defaultToPackageHeader));
  }

  relativeGroupPath(): string {
    const path = this.path.startsWith('/') ? this.path.slice(1) : this.path;
    const idx = path.lastIndexOf('/');
    return idx === -1 ? '' : path.slice(0, idx);
  }

  isInterpolation(): boolean {
    return isInterpolationString(this.getConfigPath());
  }
  isMissing(): boolean {
    return this.getName() === '???';
  }
  isOverride(): boolean {
    return false;
  }
  isExternalAppend(): boolean {
    return false;
  }

  private requireBaseDir(): string {
    if (this.parentBaseDir === null) throw new Error(`internal: parent base dir of '${this.path}' not set`);
    return this.parentBaseDir;
  }
}

/** A group choice (`- db: mysql`, `- override db: pg`, `- optional x@pkg: y`, `- ds@p: [a, b]`). */
export class GroupDefault extends InputDefault {
  group: string;
  value: string | string[] | null;
  optional: boolean;
  override: boolean;
  configNameOverridden = false;
  externalAppend: boolean;

  constructor(opts: {
    group: string;
    value: string | string[] | null;
    package?: string | null;
    optional?: boolean;
    override?: boolean;
    externalAppend?: boolean;
  }) {
    super();
    this.group = opts.group;
    this.value = opts.value;
    this.package = opts.package ?? null;
    this.optional = opts.optional ?? false;
    this.override = opts.override ?? false;
    this.externalAppend = opts.externalAppend ?? false;
    if (this.group === '') throw new Error('internal: empty group');
    if (this.package === '_here_') this.package = '';
  }

  isSelf(): boolean {
    return this.value === '_self_';
  }
  isOptional(): boolean {
    return this.optional;
  }
  isOverride(): boolean {
    return this.override;
  }
  isExternalAppend(): boolean {
    return this.externalAppend;
  }

  getGroupPath(): string {
    if (this.parentBaseDir === null) throw new Error(`internal: parent base dir of '${this.group}' not set`);
    const absolute = this.group.startsWith('/');
    const group = absolute ? this.group.slice(1) : this.group;
    if (this.parentBaseDir === '' || absolute) return group;
    return `${this.parentBaseDir}/${group}`;
  }

  getConfigPath(): string {
    const name = this.getName();
    return `${this.getGroupPath()}/${name === null ? 'None' : name}`;
  }

  isName(): boolean {
    return !Array.isArray(this.value);
  }
  isOptions(): boolean {
    return Array.isArray(this.value);
  }

  getName(): string | null {
    if (Array.isArray(this.value)) throw new Error('internal: select-multi default has no single name');
    return this.value;
  }

  getOptions(): string[] {
    if (!Array.isArray(this.value)) throw new Error('internal: not a select-multi default');
    return this.value;
  }

  getFinalPackage(defaultToPackageHeader = true): string {
    return this.finalPackage(this.parentPackage, this.getPackage(defaultToPackageHeader));
  }

  relativeGroupPath(): string {
    return this.group.startsWith('/') ? this.group.slice(1) : this.group;
  }

  isInterpolation(): boolean {
    if (!this.isName()) return false;
    const name = this.getName();
    return typeof name === 'string' && isInterpolationString(name);
  }

  isMissing(): boolean {
    return this.isName() && this.getName() === '???';
  }

  getRelativeOverrideKey(): string {
    const defaultPkg = this.getDefaultPackage();
    let key = this.group;
    if (defaultPkg !== this.getPackage() && this.package !== null) key = `${key}@${this.package}`;
    return key;
  }
}

/** OmegaConf's test for a string that may be an interpolation: it contains `${` (escaped ones included). */
export function isInterpolationString(s: string): boolean {
  return s.includes('${');
}

/** Splits `group@package[:rename]` (the rename part is ignored, as in Hydra 1.1+). */
function splitGroup(withPackage: string): { group: string; package: string | null } {
  const idx = withPackage.indexOf('@');
  if (idx === -1) return { group: withPackage, package: null };
  let pkg = withPackage.slice(idx + 1);
  const colon = pkg.indexOf(':');
  if (colon !== -1) pkg = pkg.slice(0, colon);
  return { group: withPackage.slice(0, idx), package: pkg };
}

/** Python's str() of a defaults item, for error messages. */
function pyReprItem(v: ConfigValue): string {
  return pyRepr(v);
}

/** Turns a config's raw `defaults` list into elements (Hydra's ConfigRepository._create_defaults_list). */
export function parseDefaultsList(configPath: string, raw: readonly ConfigValue[]): InputDefault[] {
  const res: InputDefault[] = [];
  for (const item of raw) {
    if (isDict(item)) {
      const keys = Object.keys(item);
      if (keys.length > 1) throw new DefaultsListValueError(`In ${configPath}: Too many keys in default item ${pyReprItem(item)}`);
      if (keys.length === 0) throw new DefaultsListValueError(`In ${configPath}: Missing group name in ${pyReprItem(item)}`);
      const key = keys[0];
      const { group: groupWithKeywords, package: pkg } = splitGroup(key);
      const elements = groupWithKeywords.split(' ');
      const group = elements[elements.length - 1];
      let optional = false;
      let override = false;
      for (const e of elements.slice(0, -1)) {
        if (e === 'optional') optional = true;
        else if (e === 'override') override = true;
        else break;
      }
      const v = item[key];
      let value: string | string[] | null;
      if (v === null || typeof v === 'string') value = v;
      else if (Array.isArray(v)) {
        value = v.map((x) => {
          if (typeof x !== 'string') {
            throw new DefaultsListValueError(
              `Unsupported item value in defaults : ${typeName(x)}, nested list items must be strings`,
            );
          }
          return x;
        });
      } else {
        throw new DefaultsListValueError(`Unsupported item value in defaults : ${typeName(v)}. Supported: string or list`);
      }
      if (group === '') throw new DefaultsListValueError(`In ${configPath}: Missing group name in ${pyReprItem(item)}`);
      res.push(new GroupDefault({ group, value, package: pkg, optional, override }));
    } else if (typeof item === 'string') {
      const { group: path, package: pkg } = splitGroup(item);
      res.push(new ConfigDefault({ path, package: pkg }));
    } else {
      throw new DefaultsListValueError(`Unsupported type in defaults : ${typeName(item)}`);
    }
  }
  return res;
}

function typeName(v: ConfigValue): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'ListConfig';
  if (isDict(v)) return 'DictConfig';
  return 'float';
}
