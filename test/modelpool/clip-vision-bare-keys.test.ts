/**
 * CLIPVisionModel checkpoints saved by transformers ≥ 5 name the tower's tensors without `vision_model.`
 * (fusion_bench's VISION_MODEL_PREFIX): the pool loads both spellings, merges them alike, and saves in
 * the spelling of its inputs. The bare-spelled models are the tiny fixtures with their keys renamed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskArithmeticAlgorithm } from '../../src/method/index.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { repoRoot } from '../helpers/paths.js';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'fusion-bench-merges');
const prefixedDir = (name: string) => join(FIXTURES, 'models', name);

/** Writes safetensors file `from` to `to` with every tensor name passed through `rename` (data unchanged). */
function renameTensors(from: string, to: string, rename: (name: string) => string): void {
  const bytes = readFileSync(from);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const json = Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(header).map(([k, v]) => [k === '__metadata__' ? k : rename(k), v]))));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(to, Buffer.concat([len, json, bytes.subarray(8 + n)]));
}

/** A copy of fixture model `name` whose tensors are named without `vision_model.` (transformers ≥ 5). */
function bareCopy(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  copyFileSync(join(prefixedDir(name), 'config.json'), join(dir, 'config.json'));
  renameTensors(join(prefixedDir(name), 'model.safetensors'), join(dir, 'model.safetensors'), (k) => k.replace(/^vision_model\./, ''));
  return dir;
}

function withTemp(fn: (root: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'fb-bare-keys-'));
    try {
      await fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

test('a bare-spelled checkpoint loads as the same vision_model.* tensors', withTemp(async (root) => {
  const bare = bareCopy(root, 'ft1');
  assert.ok(openSafetensors(join(bare, 'model.safetensors')).names().every((n) => !n.startsWith('vision_model.')));
  const pool = new CLIPVisionModelPool({ models: { bare, prefixed: prefixedDir('ft1') } });
  const a = await pool.loadModel('bare');
  const b = await pool.loadModel('prefixed');
  try {
    assert.deepEqual([...a.stateDict.names()], [...b.stateDict.names()]);
    assert.ok(a.stateDict.names().length > 0 && !a.stateDict.names().some((n) => n.endsWith('position_ids')));
    for (const name of b.stateDict.names()) assert.deepEqual(a.stateDict.loadF32(name), b.stateDict.loadF32(name), name);
  } finally {
    a.stateDict.close?.();
    b.stateDict.close?.();
  }
}));

test('merging bare-spelled inputs gives the same result, saved bare', withTemp(async (root) => {
  const models = (dirOf: (n: string) => string) => ({ _pretrained_: dirOf('pretrained'), ft1: dirOf('ft1'), ft2: dirOf('ft2') });
  const barePool = new CLIPVisionModelPool({ models: models((n) => bareCopy(root, n)) });
  const prefixedPool = new CLIPVisionModelPool({ models: models(prefixedDir) });
  const mergedBare = await new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }).run(barePool);
  const mergedPrefixed = await new TaskArithmeticAlgorithm({ scaling_factor: 0.3 }).run(prefixedPool);
  try {
    await barePool.saveModel(mergedBare, join(root, 'out-bare'));
    await prefixedPool.saveModel(mergedPrefixed, join(root, 'out-prefixed'));
  } finally {
    mergedBare.stateDict.close?.();
    mergedPrefixed.stateDict.close?.();
  }
  const outBare = openSafetensors(join(root, 'out-bare', 'model.safetensors'));
  const outPrefixed = openSafetensors(join(root, 'out-prefixed', 'model.safetensors'));
  try {
    assert.ok(outPrefixed.names().length > 0 && outPrefixed.names().every((n) => n.startsWith('vision_model.')));
    assert.deepEqual([...outBare.names()], outPrefixed.names().map((n) => n.slice('vision_model.'.length)));
    for (const n of outBare.names()) assert.deepEqual(outBare.loadF32(n), outPrefixed.loadF32(`vision_model.${n}`), n);
  } finally {
    outBare.close();
    outPrefixed.close();
  }
}));

test('with mixed spellings both load, and saving follows _pretrained_', withTemp(async (root) => {
  const pool = new CLIPVisionModelPool({ models: { _pretrained_: bareCopy(root, 'pretrained'), ft1: prefixedDir('ft1') } });
  const merged = await new TaskArithmeticAlgorithm({ scaling_factor: 0.5 }).run(pool);
  try {
    await pool.saveModel(merged, join(root, 'out'));
  } finally {
    merged.stateDict.close?.();
  }
  const out = openSafetensors(join(root, 'out', 'model.safetensors'));
  try {
    assert.ok(out.names().includes('encoder.layers.0.mlp.fc1.weight'));
    assert.ok(!out.names().some((n) => n.startsWith('vision_model.')));
  } finally {
    out.close();
  }
}));

test('a checkpoint with neither spelling is still refused, naming both', withTemp(async (root) => {
  const dir = bareCopy(root, 'ft1');
  renameTensors(join(prefixedDir('ft1'), 'model.safetensors'), join(dir, 'model.safetensors'), (k) => k.replace(/^vision_model\./, 'text_model.'));
  const pool = new CLIPVisionModelPool({ models: { m: dir } });
  await assert.rejects(pool.loadModel('m'), /no vision tower tensors \(vision_model\.\*, or embeddings\.\*\/encoder\.\*/);
}));
