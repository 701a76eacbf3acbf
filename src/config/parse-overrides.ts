import type { OverrideLike } from './defaults/overrides-state.js';
import { parseOverride } from './overrides/index.js';

/** Parses command-line override strings with the override grammar; already parsed ones pass through. */
export function parseOverrideStrings(overrides: readonly string[] | readonly OverrideLike[]): OverrideLike[] {
  return overrides.map((o) => (typeof o === 'string' ? parseOverride(o) : o));
}
