/**
 * fusion_bench loads CLIP vision models with `from_pretrained`, float32 unless the entry sets
 * `torch_dtype`: a merge of the float16 demo towers computes and saves float32; `torch_dtype: float16`
 * keeps float16, `auto` the stored dtype.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskArithmeticAlgorithm } from '../../src/method/index.js';
import { CLIPVisionModelPool } from '../../src/modelpool/index.js';
import { openSafetensors } from '../../src/tensor/safetensors-read.js';
import { repoRoot } from '../helpers/paths.js';

const demo = (name: string) => join(repoRoot, 'demo', 'models', name);
const entry = (path: string, torch_dtype?: string) => (torch_dtype === undefined ? path : { _target_: 'transformers.CLIPVisionModel.from_pretrained', pretrained_model_name_or_path: path, torch_dtype });

for (const [torchDtype, want, configName] of [[undefined, 'F32', 'float32'], ['float16', 'F16', 'float16'], ['auto', 'F16', 'float16']] as const) {
  test(`CLIP vision pool, torch_dtype ${torchDtype ?? 'unset'}: the merge is saved as ${want}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clip-dtype-'));
    try {
      const stored = openSafetensors(join(demo('tiny-clip-mnist'), 'model.safetensors'));
      assert.equal(stored.info('vision_model.post_layernorm.weight').dtype, 'F16', 'the demo checkpoints store float16');
      stored.close();
      const pool = new CLIPVisionModelPool({ models: { _pretrained_: entry(demo('tiny-clip'), torchDtype), mnist: entry(demo('tiny-clip-mnist'), torchDtype), fashion: entry(demo('tiny-clip-fashion_mnist'), torchDtype) } });
      const merged = await new TaskArithmeticAlgorithm({ scaling_factor: 0.7 }).run(pool);
      const weights = merged.stateDict.names().filter((n) => /weight|bias|embedding/.test(n));
      for (const n of weights) assert.equal(merged.stateDict.info(n).dtype, want, n);
      await pool.saveModel(merged, join(dir, 'out'));
      merged.stateDict.close?.();
      const saved = openSafetensors(join(dir, 'out', 'model.safetensors'));
      for (const n of weights) assert.equal(saved.info(n).dtype, want, `saved ${n}`);
      saved.close();
      assert.equal((JSON.parse(readFileSync(join(dir, 'out', 'config.json'), 'utf8')) as { torch_dtype: string }).torch_dtype, configName);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
