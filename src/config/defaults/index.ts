/** Hydra's defaults list: elements, the overrides' part, and the builder (see build.ts). */
export { createDefaultsList, renderDefaultsTree } from './build.js';
export type { DefaultsListOptions, DefaultsListResult, ResultDefault, TreeNode } from './build.js';
export { ConfigDefault, GroupDefault, InputDefault, VirtualRoot, parseDefaultsList } from './elements.js';
export { OverridesState, overrideKey, type OverrideLike } from './overrides-state.js';
