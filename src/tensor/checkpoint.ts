/**
 * A Hugging Face model directory as one lazy state dict: `model.safetensors`, or the shards listed by
 * `model.safetensors.index.json` (transformers' `save_pretrained` layout).
 *
 * PyTorch pickle files (`pytorch_model.bin`, `*.pt`, `*.pth`, `*.ckpt`) are refused: unpickling runs
 * arbitrary code from the file, so we never read them.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import { openSafetensors, type SafetensorsFile } from './safetensors-read.js';
import type { ReadBatch } from './io/read-batch.js';
import type { PieceFile } from './io/read-helper.js';
import type { StateDict, TensorInfo } from './types.js';

export const SAFE_WEIGHTS_NAME = 'model.safetensors';
export const SAFE_WEIGHTS_INDEX_NAME = 'model.safetensors.index.json';

const PICKLE_PATTERN = /(^pytorch_model.*\.bin$|\.bin\.index\.json$|\.pt$|\.pth$|\.ckpt$)/;

/** Many safetensors files read as one state dict. */
export class ShardedCheckpoint implements StateDict {
  readonly dir: string;
  readonly indexPath: string;
  /** The index's `metadata` (e.g. `total_size`), as found. */
  readonly indexMetadata: Readonly<Record<string, unknown>>;
  readonly shards: readonly SafetensorsFile[];
  private readonly shardOf: ReadonlyMap<string, SafetensorsFile>;
  private readonly order: readonly string[];

  constructor(dir: string, indexPath: string, indexMetadata: Record<string, unknown>, shards: SafetensorsFile[], shardOf: Map<string, SafetensorsFile>, order: string[]) {
    this.dir = dir;
    this.indexPath = indexPath;
    this.indexMetadata = Object.freeze(indexMetadata);
    this.shards = Object.freeze(shards);
    this.shardOf = shardOf;
    this.order = Object.freeze(order);
  }

  /** The first shard's `__metadata__` (transformers writes `{format: pt}` in each). */
  get metadata(): Readonly<Record<string, string>> {
    return this.shards[0]?.metadata ?? {};
  }

  /** Shards in file-name order, each in its storage order. */
  names(): readonly string[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.shardOf.has(name);
  }

  info(name: string): TensorInfo {
    return this.shard(name).info(name);
  }

  loadF32(name: string): Float32Array {
    return this.shard(name).loadF32(name);
  }

  loadRaw(name: string): Uint8Array {
    return this.shard(name).loadRaw(name);
  }

  loadF32Into(name: string, out: Float32Array, batch?: ReadBatch): Float32Array {
    return this.shard(name).loadF32Into(name, out, batch);
  }

  loadF32RangeInto(name: string, start: number, out: Float32Array, batch?: ReadBatch): Float32Array {
    return this.shard(name).loadF32RangeInto(name, start, out, batch);
  }

  pieceFile(name: string): PieceFile | null {
    return this.shard(name).pieceFile(name);
  }

  /** The shard file holding `name`. */
  shard(name: string): SafetensorsFile {
    const s = this.shardOf.get(name);
    if (s === undefined) throw new UserError(`${this.indexPath}: no tensor named '${name}' in the weight_map`);
    return s;
  }

  close(): void {
    for (const s of this.shards) s.close();
  }
}

/** What `openCheckpoint` returns: one file or a sharded set; both read lazily. */
export type Checkpoint = SafetensorsFile | ShardedCheckpoint;

/**
 * Opens a model directory (or a `.safetensors` file, or a `model.safetensors.index.json`) as one lazy
 * state dict. Close it when done.
 */
export function openCheckpoint(path: string): Checkpoint {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: no such checkpoint (file or directory does not exist)`);
  }
  if (st.isFile()) {
    if (path.endsWith('.safetensors')) return openSafetensors(path);
    if (path.endsWith('.safetensors.index.json')) return openShardIndex(path);
    if (PICKLE_PATTERN.test(basename(path))) throw pickleRefusal(path, [basename(path)]);
    throw new UserError(`${path}: not a checkpoint: expected a directory, a .safetensors file or a model.safetensors.index.json`);
  }
  const single = join(path, SAFE_WEIGHTS_NAME);
  if (existsSync(single)) return openSafetensors(single);
  const index = join(path, SAFE_WEIGHTS_INDEX_NAME);
  if (existsSync(index)) return openShardIndex(index);
  const files = readdirSync(path);
  const pickles = files.filter((f) => PICKLE_PATTERN.test(f));
  if (pickles.length > 0) throw pickleRefusal(path, pickles);
  const others = files.filter((f) => f.endsWith('.safetensors'));
  throw new UserError(
    `${path}: no ${SAFE_WEIGHTS_NAME} or ${SAFE_WEIGHTS_INDEX_NAME} in this directory` +
      (others.length > 0 ? ` (found ${others.join(', ')}; open that file directly)` : ''),
  );
}

function pickleRefusal(path: string, files: string[]): UserError {
  return new UserError(
    `${path}: only PyTorch pickle weights found (${files.join(', ')}). fusion-bench reads safetensors only: ` +
      'unpickling a PyTorch file can run arbitrary code. Convert it once with Python, e.g. ' +
      '`AutoModel.from_pretrained(dir).save_pretrained(out_dir, safe_serialization=True)` (transformers), ' +
      'or `safetensors.torch.save_file(torch.load(file), "model.safetensors")` for a plain state dict you trust.',
  );
}

/** A shard file name must stay inside the checkpoint directory. */
function checkShardName(indexPath: string, tensor: string, file: unknown): string {
  if (typeof file !== 'string' || file === '' || file.includes('/') || file.includes('\\') || file === '.' || file === '..') {
    throw new UserError(`${indexPath}: weight_map entry for '${tensor}' must be a file name in the same directory, got ${JSON.stringify(file)}`);
  }
  return file;
}

function openShardIndex(indexPath: string): ShardedCheckpoint {
  const dir = join(indexPath, '..');
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${indexPath}: cannot read the shard index (${(e as Error).message})`, { cause: e });
  }
  if (typeof index !== 'object' || index === null || Array.isArray(index)) {
    throw new UserError(`${indexPath}: shard index must be a JSON object with a weight_map`);
  }
  const { weight_map: weightMap, metadata } = index as Record<string, unknown>;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new UserError(`${indexPath}: weight_map must be an object from tensor names to shard file names`);
  }
  const fileOf = new Map<string, string>();
  const shardNames: string[] = [];
  for (const [tensor, file] of Object.entries(weightMap)) {
    const f = checkShardName(indexPath, tensor, file);
    fileOf.set(tensor, f);
    if (!shardNames.includes(f)) shardNames.push(f);
  }
  shardNames.sort(); // model-00001-of-… first, whatever order the weight_map lists tensors in
  const shards: SafetensorsFile[] = [];
  try {
    for (const f of shardNames) {
      const p = join(dir, f);
      if (!existsSync(p)) throw new UserError(`${indexPath}: shard ${f} listed in the weight_map is missing from ${dir}`);
      shards.push(openSafetensors(p));
    }
    const byFile = new Map(shardNames.map((f, i) => [f, shards[i]!] as const));
    const shardOf = new Map<string, SafetensorsFile>();
    for (const [tensor, f] of fileOf) {
      const s = byFile.get(f)!;
      if (!s.has(tensor)) throw new UserError(`${indexPath}: weight_map puts '${tensor}' in ${f}, but that shard has no such tensor`);
      shardOf.set(tensor, s);
    }
    // Shards in file-name order, each in its storage order.
    const order: string[] = [];
    for (const s of shards) for (const n of s.names()) if (shardOf.get(n) === s) order.push(n);
    const meta = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {};
    return new ShardedCheckpoint(dir, indexPath, meta, shards, shardOf, order);
  } catch (e) {
    for (const s of shards) s.close();
    throw e;
  }
}
