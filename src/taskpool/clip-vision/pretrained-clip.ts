/**
 * The pretrained CLIPModel the task pool evaluates against: its text tower and `text_projection` build the
 * zero-shot heads, its `visual_projection` and `logit_scale` turn any evaluated vision tower's pooled
 * output into logits (as fusion_bench's HFCLIPClassifier, which swaps only `vision_model`).
 * Tensors are read lazily: a run whose heads are all cached never loads the text tower.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { readClipConfig, type ClipConfig, type ClipTextConfig } from '../../models/clip/config.js';
import { ClipTextSession } from '../../models/clip/session.js';
import { resolveRepoPath } from '../../hub/index.js';
import { openCheckpoint } from '../../tensor/checkpoint.js';
import type { StateDict } from '../../tensor/types.js';

const TEXT_PREFIX = 'text_model.';
const COMMIT = /^[0-9a-f]{40}$/;

export class PretrainedClip {
  private identityMemo: string | null = null;

  private constructor(
    /** The spec as configured (path or repo id). */
    readonly spec: string,
    readonly dir: string,
    readonly config: ClipConfig,
    readonly stateDict: StateDict,
  ) {}

  static async open(spec: string, where = 'clip_model'): Promise<PretrainedClip> {
    const dir = await resolveClipDir(spec);
    const cfgPath = join(dir, 'config.json');
    if (!existsSync(cfgPath)) throw new UserError(`${where} (${dir}): no config.json; expected a CLIPModel directory`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(cfgPath, 'utf8'));
    } catch (e) {
      throw new UserError(`${cfgPath}: not valid JSON (${(e as Error).message})`);
    }
    const config = readClipConfig(json, cfgPath);
    if (!config.text || !config.vision) {
      throw new UserError(`${where} (${dir}): a ${config.modelType} checkpoint; the zero-shot heads need a full CLIPModel (text tower, projections and logit_scale)`);
    }
    return new PretrainedClip(spec, dir, config, openCheckpoint(dir));
  }

  get textConfig(): ClipTextConfig {
    return this.config.text!;
  }

  /** `visual_projection.weight`, [projection_dim, vision hidden]. */
  visualProjection(): { data: Float32Array; shape: readonly number[] } {
    return { data: this.tensor('visual_projection.weight'), shape: this.stateDict.info('visual_projection.weight').shape };
  }

  /** The raw `logit_scale` parameter (logits are scaled by its exp). */
  logitScale(): number {
    const v = this.tensor('logit_scale');
    if (v.length !== 1) throw new UserError(`${this.dir}: logit_scale has ${v.length} values, expected a scalar`);
    return v[0]!;
  }

  /** A session over the text tower with `text_projection`, so that its `embeds` are get_text_features. */
  async textSession(): Promise<ClipTextSession> {
    return ClipTextSession.create(this.textConfig, this.stateDict, { projection: this.tensor('text_projection.weight'), source: this.dir });
  }

  /**
   * What the zero-shot heads depend on, as a stable string: `hub:<repo>@<commit>` for a hub snapshot
   * (immutable), else a SHA-256 of the text tower's tensors (names, dtypes, shapes and bytes) and
   * `text_projection`, so an edited local checkpoint never reuses stale heads.
   */
  identity(): string {
    if (this.identityMemo !== null) return this.identityMemo;
    const commit = basename(this.dir);
    const isSnapshot = !existsSync(resolve(this.spec.split('@')[0]!)) && COMMIT.test(commit) && basename(dirname(this.dir)) === 'snapshots';
    if (isSnapshot) {
      this.identityMemo = `hub:${this.spec.split('@')[0]}@${commit}`;
    } else {
      const h = createHash('sha256');
      const names = this.stateDict.names().filter((n) => (n.startsWith(TEXT_PREFIX) && !n.endsWith('.position_ids')) || n === 'text_projection.weight');
      for (const n of [...names].sort()) {
        const info = this.stateDict.info(n);
        h.update(`${n}\0${info.dtype}\0${info.shape.join(',')}\0`);
        const raw = this.stateDict.loadRaw ? this.stateDict.loadRaw(n) : new Uint8Array(this.stateDict.loadF32(n).buffer);
        h.update(raw);
      }
      this.identityMemo = `sha256:${h.digest('hex')}`;
    }
    return this.identityMemo;
  }

  private tensor(name: string): Float32Array {
    if (!this.stateDict.has(name)) throw new UserError(`${this.dir}: tensor ${name} is missing; the zero-shot evaluation needs a full CLIPModel checkpoint`);
    return this.stateDict.loadF32(name);
  }

  close(): void {
    this.stateDict.close?.();
  }
}

/** What the task pool reads of a CLIP repo: configs, safetensors weights, tokenizer files (never pickles or TF/Flax weights). */
const CLIP_FILES = ['*.json', '*.safetensors', '*.txt'];

/** A local folder as is, or a hub repo id (`org/name[@revision]`) as its snapshot, fetching only CLIP_FILES. */
export function resolveClipDir(spec: string): Promise<string> {
  return resolveRepoPath(spec, { allowPatterns: CLIP_FILES });
}

/** A SHA-256 over the tokenizer files of a processor directory (what the prompts' token ids depend on). */
export function tokenizerIdentity(dir: string): string {
  const h = createHash('sha256');
  for (const f of ['vocab.json', 'merges.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    h.update(`${f}\0`);
    h.update(readFileSync(p));
    h.update('\0');
  }
  return `sha256:${h.digest('hex')}`;
}
