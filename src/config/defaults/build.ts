import { isDict } from '../values.js';
import type { ConfigDict, ConfigValue } from '../values.js';
import { setOwn } from '../omegaconf/yaml.js';
import { resolveValueIn } from '../omegaconf/resolve.js';
import { OmegaConfError } from '../omegaconf/errors.js';
import { pyStr } from '../omegaconf/pystr.js';
import { ConfigCompositionError, DefaultsListValueError, MissingConfigError } from '../hydra-errors.js';
import type { ConfigRepository } from '../repository.js';
import { ConfigDefault, GroupDefault, InputDefault, VirtualRoot } from './elements.js';
import { type OverrideLike, OverridesState } from './overrides-state.js';
import { groupOptionsDeep } from '../groups.js';
import { closestMatches } from '../../util/suggest.js';

/**
 * The defaults list, after Hydra 1.3.2's hydra/_internal/defaults_list.py: a pure function of the config
 * repository, the primary config name and the parsed overrides. The tree is built depth-first, each
 * config's defaults visited last to first (so later entries' `override`s are seen first), then flattened
 * into the merge order.
 */

/** One config to merge, in order (Hydra's ResultDefault). */
export interface ResultDefault {
  configPath: string;
  /** The package it is merged at ('' = the root). */
  package: string;
  /** True for a config's own content (`_self_`). */
  isSelf: boolean;
  /** True for the primary config. */
  primary: boolean;
  /** The config whose defaults list brought it in; '<root>' for the top level. */
  parent: string | null;
  /** `group[@pkg]` for group entries. */
  overrideKey: string | null;
}

export interface DefaultsListResult {
  defaults: ResultDefault[];
  /** hydra.runtime.choices: override key → chosen option (null for `group: null`), in Hydra's order. */
  choices: Map<string, string | null>;
  /** Overrides that set config values (not group choices), in command-line order. */
  configOverrides: OverrideLike[];
  warnings: string[];
  /** The tree the list was flattened from (for `--info defaults-tree`, see renderDefaultsTree). */
  tree: TreeNode;
}

export interface DefaultsListOptions {
  /** Prepend Hydra's own `hydra/config` (true for composition; false to see only the app's list). */
  withHydra?: boolean;
  /** Skip groups whose choice is `???` instead of failing (multirun: the sweep provides them). */
  skipMissing?: boolean;
  /** Environment for `${oc.env:...}` in interpolated defaults (default: process.env). */
  env?: Record<string, string | undefined>;
}

/** The defaults tree (Hydra's DefaultsTreeNode): a config and what its defaults list brought in. */
/** How many configs a chain of defaults lists may nest (fusion_bench's own configs nest fewer than ten). */
export const MAX_DEFAULTS_DEPTH = 100;

export interface TreeNode {
  node: InputDefault;
  children: Array<TreeNode | InputDefault> | null;
  parent: TreeNode | null;
}

class Builder {
  readonly warnings: string[] = [];
  constructor(
    readonly repo: ConfigRepository,
    readonly overrides: OverridesState,
    readonly skipMissing: boolean,
    readonly env: Record<string, string | undefined>,
  ) {}

  expandVirtualRoot(root: TreeNode): TreeNode {
    const children: Array<TreeNode | InputDefault> = [];
    for (const d of [...(root.children as InputDefault[])].reverse()) {
      const newRoot: TreeNode = { node: d, parent: root, children: null };
      d.updateParent('', '');
      const subtree = this.createTree(newRoot, d.primary, false);
      children.push(subtree.children === null ? d : subtree);
    }
    if (children.length > 0) root.children = children.reverse();
    return root;
  }

  createTree(root: TreeNode, isRootConfig: boolean, interpolatedSubtree: boolean): TreeNode {
    const parent = root.node;
    const children: Array<TreeNode | InputDefault> = [];
    if (parent.isVirtual()) return isRootConfig ? this.expandVirtualRoot(root) : root;

    if (isRootConfig) {
      parent.updateParent('', '');
      if (!this.repo.configExists(parent.getConfigPath())) this.configNotFound(root);
    }

    this.updatePackageHeader(parent);

    if (this.overrides.isDeleted(parent)) {
      this.overrides.delete(parent);
      return root;
    }

    this.overrides.setKnownChoice(parent);

    if (parent.getName() === null) return root;
    if (this.checkNotMissing(parent)) return root;

    const path = parent.getConfigPath();
    this.checkNotCyclic(root, path);
    const loaded = this.repo.loadConfig(path);
    if (loaded === null) {
      if (parent.isOptional()) {
        parent.deleted = true;
        return root;
      }
      this.configNotFound(root);
    }
    const defaultsList = this.repo.defaultsOf(loaded!);

    let selfAdded = false;
    if (defaultsList.length > 0 || (isRootConfig && this.overrides.appendGroupDefaults.length > 0)) {
      selfAdded = this.validateSelf(parent, defaultsList, hasConfigContent(loaded!.config));
    }
    if (isRootConfig) defaultsList.push(...this.overrides.appendGroupDefaults);

    this.updateOverrides(defaultsList, parent, interpolatedSubtree);

    const addChild = (childList: Array<TreeNode | InputDefault>, newRoot: TreeNode): void => {
      const subtree = this.createTree(newRoot, false, interpolatedSubtree);
      childList.push(subtree.children === null ? newRoot.node : subtree);
    };

    for (const d of [...defaultsList].reverse()) {
      if (d.isSelf()) {
        d.updateParent(root.node.parentBaseDir, root.node.getPackage());
        children.push(d);
        continue;
      }
      if (d.isOverride()) continue;
      d.updateParent(parent.getGroupPath(), parent.getFinalPackage());
      if (this.overrides.isOverridden(d)) this.overrides.overrideDefaultOption(d as GroupDefault);

      if (d instanceof GroupDefault && d.isOptions()) {
        for (const item of [...d.getOptions()].reverse()) {
          if (item.includes('${')) {
            throw new ConfigCompositionError(`In '${path}': Defaults List interpolation is not supported in options list items`);
          }
          const node = new ConfigDefault({ path: `${d.group}/${item}`, package: d.package, optional: d.isOptional() });
          node.updateParent(parent.getGroupPath(), parent.getFinalPackage());
          addChild(children, { node, parent: root, children: null });
        }
      } else {
        if (d.isInterpolation()) {
          children.push(d);
          continue;
        }
        addChild(children, { node: d, parent: root, children: null });
      }
    }

    // Interpolated entries wait until every choice of this level is known.
    for (let idx = 0; idx < children.length; idx++) {
      const dd = children[idx];
      if (!isTreeNode(dd) && dd.isInterpolation()) {
        resolveDefaultInterpolation(dd, this.overrides.knownChoices, defaultsList, selfAdded, this.env);
        const newRoot: TreeNode = { node: dd, parent: root, children: null };
        dd.updateParent(parent.getGroupPath(), parent.getFinalPackage());
        const subtree = this.createTree(newRoot, false, true);
        if (subtree.children !== null) children[idx] = subtree;
      }
    }

    if (children.length > 0) root.children = children.reverse();
    return root;
  }

  /**
   * A config that includes itself, directly or through others, would nest without end: refused with the
   * chain of configs. Long chains of distinct configs are refused at MAX_DEFAULTS_DEPTH, before the JS
   * stack runs out.
   */
  private checkNotCyclic(tree: TreeNode, path: string): void {
    const chain: string[] = [];
    for (let t = tree.parent; t !== null; t = t.parent) if (!t.node.isVirtual()) chain.push(t.node.getConfigPath());
    chain.reverse();
    const fileOf = (p: string) => {
      const loaded = this.repo.loadConfig(p);
      return loaded === null ? p : `${p} (${loaded.file})`;
    };
    const at = chain.indexOf(path);
    if (at >= 0) {
      const cycle = [...chain.slice(at), path].map(fileOf).join('\n  -> ');
      throw new ConfigCompositionError(`The defaults list includes itself: a cycle of configs\n  ${cycle}`);
    }
    if (chain.length >= MAX_DEFAULTS_DEPTH) {
      throw new ConfigCompositionError(`Defaults lists nest more than ${MAX_DEFAULTS_DEPTH} configs deep (at '${path}', included from '${chain[chain.length - 1]}')`);
    }
  }

  private updatePackageHeader(node: InputDefault): void {
    if (node.isMissing()) return;
    const loaded = this.repo.loadConfig(node.getConfigPath());
    if (loaded !== null) node.setPackageHeader(loaded.packageHeader);
  }

  private checkNotMissing(d: InputDefault): boolean {
    const path = d.getConfigPath();
    if (!path.endsWith('???')) return false;
    if (this.skipMissing) return true;
    if (d instanceof GroupDefault) {
      const key = d.getOverrideKey();
      const options = this.repo.groupOptions(d.getGroupPath(), 'config');
      const optList = options.map((x) => `\t${x}`).join('\n');
      throw new ConfigCompositionError(`You must specify '${key}', e.g, ${key}=<OPTION>\nAvailable options:\n${optList}`);
    }
    throw new DefaultsListValueError(`Missing ConfigDefault is not supported : ${path}`);
  }

  /** Checks `_self_` appears at most once; adds it at the end when absent (with Hydra's migration warning). */
  private validateSelf(containing: InputDefault, defaults: InputDefault[], hasContent: boolean): boolean {
    let hasSelf = false;
    let hasNonOverride = false;
    for (const d of defaults) {
      if (!d.isOverride()) hasNonOverride = true;
      if (d.isSelf()) {
        if (hasSelf) throw new ConfigCompositionError(`Duplicate _self_ defined in ${containing.getConfigPath()}`);
        hasSelf = true;
      }
    }
    if ((!hasSelf && hasNonOverride) || defaults.length === 0) {
      if (containing.primary && hasContent && hasNonOverride) {
        const msg =
          `In '${containing.getConfigPath()}': Defaults list is missing \`_self_\`. ` +
          'See https://hydra.cc/docs/1.2/upgrades/1.0_to_1.1/default_composition_order for more information';
        if (process.env.SELF_WARNING_AS_ERROR === '1') throw new ConfigCompositionError(msg);
        this.warnings.push(msg);
      }
      defaults.push(new ConfigDefault({ path: '_self_' }));
    }
    return !hasSelf;
  }

  private updateOverrides(defaults: InputDefault[], parent: InputDefault, interpolatedSubtree: boolean): void {
    let seenOverride = false;
    let lastOverride: GroupDefault | null = null;
    for (const d of defaults) {
      if (d.isSelf()) continue;
      d.updateParent(parent.getGroupPath(), parent.getFinalPackage());
      if (seenOverride && !(d.isOverride() || d.isExternalAppend())) {
        const okey = lastOverride!.getOverrideKey();
        const oval = displayName(lastOverride!);
        throw new ConfigCompositionError(
          `In ${parent.getConfigPath()}: Override '${okey} : ${oval}' is defined before '${d.getOverrideKey()}: ${displayName(d)}'.\n` +
            'Overrides must be at the end of the defaults list',
        );
      }
      if (d instanceof GroupDefault && d.override) {
        seenOverride = true;
        lastOverride = d;
        if (interpolatedSubtree) {
          throw new ConfigCompositionError(
            `${parent.getConfigPath()}: Default List Overrides are not allowed in the subtree\n` +
              `of an in interpolated config group (override ${d.getOverrideKey()}=${displayName(d)}).\n`,
          );
        }
        this.overrides.addOverride(parent.getConfigPath(), d);
      }
    }
  }

  configNotFound(tree: TreeNode): never {
    const element = tree.node;
    let options: string[] | null = null;
    let group: string | null = null;
    if (element instanceof GroupDefault) {
      group = element.getGroupPath();
      options = this.repo.groupOptions(group, 'config');
    }
    let msg: string;
    if (element.primary) {
      msg = `Cannot find primary config '${element.getConfigPath()}'. Check that it's in your config search path.\n`;
    } else {
      const parent = tree.parent !== null ? tree.parent.node : null;
      if (element instanceof GroupDefault) {
        // Hydra lists the group's own options; where it has none (all in sub-folders, as modelpool's) we
        // list those, and name the closest option when the name looks misspelled.
        const deep = groupOptionsDeep(this.repo, group!);
        const wanted = element.getConfigPath().slice(group!.length + 1);
        const near = closestMatches(wanted, deep, 1).filter((o) => o !== wanted);
        msg = `Could not find '${element.getConfigPath()}'${near.length ? ` (did you mean ${group}=${near[0]}?)` : ''}\n`;
        const listed = options !== null && options.length > 0 ? options : deep;
        if (listed.length > 0) {
          msg += `\nAvailable options in '${group}':\n` + listed.map((x) => `\t${x}`).join('\n');
        }
      } else {
        msg = `Could not load '${element.getConfigPath()}'.\n`;
      }
      if (parent !== null) msg = `In '${parent.getConfigPath()}': ${msg}`;
    }
    msg += '\nConfig search path:\n' + this.repo.searchPathDescription(true);
    throw new MissingConfigError(msg, element.getConfigPath(), options);
  }
}

function isTreeNode(x: TreeNode | InputDefault): x is TreeNode {
  return !(x instanceof InputDefault);
}

function displayName(d: InputDefault): string {
  if (d instanceof GroupDefault && d.isOptions()) return `[${d.getOptions().map((x) => `'${x}'`).join(', ')}]`;
  const n = d.getName();
  return n === null ? 'None' : n;
}

/** Whether a config has content besides `defaults` and `???` values (decides the missing-`_self_` warning). */
function hasConfigContent(cfg: ConfigValue): boolean {
  if (!isDict(cfg)) return false;
  for (const k of Object.keys(cfg)) if (k !== 'defaults' && cfg[k] !== '???') return true;
  return false;
}

/**
 * Resolves an interpolated default (`- combo: ${db}_${server}`) as OmegaConf would, against a config of
 * the choices known so far plus this level's `defaults` (Hydra's _create_interpolation_map).
 */
function resolveDefaultInterpolation(
  d: InputDefault,
  known: Map<string, string | null>,
  defaults: readonly InputDefault[],
  selfAdded: boolean,
  env: Record<string, string | undefined>,
): void {
  const val = d instanceof GroupDefault ? (d.getName() as string) : d.getConfigPath();
  const root: ConfigDict = {};
  for (const [k, v] of known) setOwn(root, k, v);
  const list: ConfigValue[] = [];
  for (const x of defaults) {
    if (selfAdded && x.isSelf()) continue;
    if (x instanceof ConfigDefault) list.push(x.getConfigPath());
    else if (x instanceof GroupDefault) {
      const item: ConfigDict = {};
      setOwn(item, x.getOverrideKey(), x.value === null ? null : Array.isArray(x.value) ? [...x.value] : x.value);
      list.push(item);
    }
  }
  root.defaults = list;
  let out: ConfigValue;
  try {
    out = resolveValueIn(root, [], val, { env });
  } catch (e) {
    if (e instanceof OmegaConfError && RESOLUTION_ERRORS.has(e.className)) {
      const options = [...known.keys()].filter((k) => k !== 'defaults');
      const msg =
        options.length > 0
          ? `Error resolving interpolation '${val}', possible interpolation keys: ${options.join(', ')}`
          : `Error resolving interpolation '${val}'`;
      throw new ConfigCompositionError(msg, { cause: e });
    }
    throw e;
  }
  if (typeof out !== 'string') throw new ConfigCompositionError(`Error resolving interpolation '${val}': got ${pyStr(out)}, expected a string`);
  if (d instanceof GroupDefault) d.value = out;
  else if (d instanceof ConfigDefault) d.path = out;
}

/** InterpolationResolutionError and its subclasses (omegaconf/errors.py). */
const RESOLUTION_ERRORS = new Set(['InterpolationResolutionError', 'InterpolationKeyError', 'InterpolationToMissingValueError', 'UnsupportedInterpolationType']);

function createResultDefault(tree: TreeNode | null, node: InputDefault): ResultDefault | null {
  if (node.isVirtual()) return null;
  if (node.getName() === null) return null;
  let res: ResultDefault;
  if (node.isSelf()) {
    const t = tree!;
    res = {
      configPath: t.node.getConfigPath(),
      isSelf: true,
      parent: t.parent !== null ? t.parent.node.getConfigPath() : null,
      package: t.node.getFinalPackage(),
      primary: t.node.primary,
      overrideKey: null,
    };
  } else {
    res = {
      configPath: node.getConfigPath(),
      isSelf: false,
      parent: tree !== null ? tree.node.getConfigPath() : null,
      package: node.getFinalPackage(),
      primary: node.primary,
      overrideKey: node instanceof GroupDefault ? node.getOverrideKey() : null,
    };
  }
  if (res.configPath === '_dummy_empty_config_') return null;
  return res;
}

function treeToList(tree: TreeNode): ResultDefault[] {
  const out: ResultDefault[] = [];
  const visit = (treeNode: TreeNode | null, node: InputDefault): void => {
    if (node.isDeleted() || node.isMissing()) return;
    const rd = createResultDefault(treeNode, node);
    if (rd !== null) out.push(rd);
  };
  const walk = (t: TreeNode): void => {
    if (t.children === null || t.children.length === 0) {
      visit(t.parent, t.node);
      return;
    }
    for (const child of t.children) {
      if (isTreeNode(child)) walk(child);
      else visit(t, child);
    }
  };
  walk(tree);
  return out;
}

function ensureNoDuplicates(result: ResultDefault[]): void {
  const keys = new Set<string>();
  for (const item of result) {
    if (item.isSelf || item.overrideKey === null) continue;
    if (keys.has(item.overrideKey)) {
      throw new ConfigCompositionError(`${item.overrideKey} appears more than once in the final defaults list`);
    }
    keys.add(item.overrideKey);
  }
}

/**
 * Builds the defaults list for a primary config (null: none, an empty config) under the given overrides.
 * Group choices, appends and deletions are taken from the overrides; the rest come back as `configOverrides`.
 */
export function createDefaultsList(
  repo: ConfigRepository,
  configName: string | null,
  overrides: readonly OverrideLike[],
  opts: DefaultsListOptions = {},
): DefaultsListResult {
  const state = new OverridesState(repo, overrides);
  const builder = new Builder(repo, state, opts.skipMissing ?? false, opts.env ?? process.env);
  const primary = new ConfigDefault({ path: configName ?? '_dummy_empty_config_', primary: true });
  let root: TreeNode;
  if (opts.withHydra ?? true) {
    root = { node: new VirtualRoot(), children: [new ConfigDefault({ path: 'hydra/config' }), primary], parent: null };
  } else {
    root = { node: primary, children: null, parent: null };
  }
  const tree = builder.createTree(root, true, false);
  const defaults = treeToList(tree);
  ensureNoDuplicates(defaults);
  state.ensureOverridesUsed();
  state.ensureDeletionsUsed();
  return { defaults, choices: state.knownChoices, configOverrides: state.configOverrides, warnings: builder.warnings, tree };
}

/** The defaults tree as Hydra's `--info defaults-tree` prints it: two spaces a level, `group: option` for choices. */
export function renderDefaultsTree(tree: TreeNode | InputDefault, indent = 0): string[] {
  const label = (n: InputDefault): string => {
    if (n instanceof GroupDefault) {
      const name = n.isOptions() ? `[${n.getOptions().join(', ')}]` : (n.getName() ?? 'null');
      return `${n.getOverrideKey()}: ${name}`;
    }
    return n.getConfigPath();
  };
  const pad = '  '.repeat(indent);
  if (tree instanceof InputDefault) return [pad + label(tree)];
  if (tree.children !== null && tree.children.length > 0) {
    const out = [`${pad}${label(tree.node)}:`];
    for (const c of tree.children) out.push(...renderDefaultsTree(c, indent + 1));
    return out;
  }
  return [pad + label(tree.node)];
}
