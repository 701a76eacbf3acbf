/**
 * One value of a pool's `models` mapping, classified: a path or hub repo id, a `_target_` config that
 * loads from a path (transformers' `from_pretrained`), or an already-built Model.
 */
import { isFloat } from '../config/values.js';
import { UserError } from '../errors.js';
import { isModel, type Model } from './model.js';
import { putOwn } from '../util/own.js';

export type ModelEntry =
  | { readonly kind: 'path'; readonly spec: string }
  | { readonly kind: 'target'; readonly target: string; readonly spec: string; readonly options: Readonly<Record<string, unknown>> }
  | { readonly kind: 'instance'; readonly model: Model };

/** `transformers.<Class>.from_pretrained`, which is all a model entry can name here. */
const FROM_PRETRAINED = /^transformers\.[A-Za-z_][A-Za-z0-9_]*\.from_pretrained$/;

/** Config floats may arrive boxed (src/config/values.ts). */
function plain(v: unknown): unknown {
  return isFloat(v) ? v.value : v;
}

export function parseModelEntry(name: string, value: unknown, where: string): ModelEntry {
  if (typeof value === 'string') {
    if (value.trim() === '') throw new UserError(`${where}.models.${name}: empty model path`);
    return { kind: 'path', spec: value };
  }
  if (isModel(value)) return { kind: 'instance', model: value };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const cfg = value as Record<string, unknown>;
    const target = plain(cfg._target_);
    if (typeof target !== 'string') {
      throw new UserError(
        `${where}.models.${name}: expected a model path, a hub repo id, or a config with _target_ (e.g. transformers.CLIPVisionModel.from_pretrained); got a mapping without _target_`,
      );
    }
    if (!FROM_PRETRAINED.test(target)) {
      throw new UserError(
        `${where}.models.${name}: _target_ '${target}' is not supported for loading a model; ` +
          `use a path or repo id string, or a transformers '<Class>.from_pretrained' target with pretrained_model_name_or_path`,
      );
    }
    const args = Array.isArray(cfg._args_) ? cfg._args_ : [];
    const spec = plain(cfg.pretrained_model_name_or_path ?? args[0]);
    if (typeof spec !== 'string' || spec.trim() === '') {
      throw new UserError(`${where}.models.${name}: ${target} needs pretrained_model_name_or_path (a path or hub repo id)`);
    }
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(cfg)) {
      if (k !== '_target_' && k !== '_args_' && k !== 'pretrained_model_name_or_path' && !(k.startsWith('_') && k.endsWith('_'))) putOwn(options, k, plain(v));
    }
    return { kind: 'target', target, spec, options };
  }
  throw new UserError(`${where}.models.${name}: expected a model path, a hub repo id, or a config with _target_; got ${JSON.stringify(value)}`);
}
