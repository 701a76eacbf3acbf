/**
 * The task pool's config handling, class-name data and metrics, without models or ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { classPrompts, getClassnamesAndTemplates, knownClassificationTasks } from '../../src/tasks/clip-classification/index.js';
import { ClassificationMetrics } from '../../src/taskpool/clip-vision/metrics.js';
import { layerWiseFeatureNote, parseTaskPoolConfig, pretrainedPathOf } from '../../src/taskpool/clip-vision/options.js';
import { buildReport } from '../../src/taskpool/clip-vision/report.js';
import { CLIPVisionModelTaskPool } from '../../src/taskpool/clip-vision/taskpool.js';
import { referenceMetrics } from './support.js';

const mnist = { _target_: 'datasets.load_dataset', path: 'ylecun/mnist', split: 'test' };

test('the eight fusion_bench tasks and fashion_mnist have their class counts and templates', async () => {
  const expected: Record<string, [number, number]> = {
    sun397: [397, 2], 'stanford-cars': [196, 8], resisc45: [45, 18], eurosat: [10, 3], svhn: [10, 1], gtsrb: [43, 3], mnist: [10, 1], dtd: [47, 8], fashion_mnist: [10, 2],
  };
  for (const [task, [classes, templates]] of Object.entries(expected)) {
    const d = await getClassnamesAndTemplates(task);
    assert.equal(d.classnames.length, classes, `${task} classes`);
    assert.equal(new Set(d.classnames).size, classes, `${task} class names are distinct`);
    assert.equal(d.templates.length, templates, `${task} templates`);
    for (const t of d.templates) assert.ok(t.includes('{c}'), `${task} template ${t}`);
  }
  assert.deepEqual(classPrompts((await getClassnamesAndTemplates('mnist')).templates, '7'), ['a photo of the number: "7".']);
  assert.deepEqual(classPrompts(['a {c} or {c}'], '$&'), ['a $& or $&']);
  assert.equal(await getClassnamesAndTemplates('tanganke/gtsrb'), await getClassnamesAndTemplates('gtsrb'));
  assert.equal((await getClassnamesAndTemplates('fashion_mnist')).classnames[0], 'T - shirt / top');
  for (const t of knownClassificationTasks()) assert.ok((await getClassnamesAndTemplates(t)).classnames.length >= 2, t);
});

test('unknown task names fail at construction with the list of known tasks', () => {
  assert.throws(
    () => new CLIPVisionModelTaskPool({ test_datasets: { mnist, cifar11: mnist }, clip_model: 'openai/clip-vit-base-patch32' }),
    (e: Error) => e instanceof UserError && e.message.includes("'cifar11'") && e.message.includes('sun397') && !e.message.includes("'mnist'"),
  );
});

test('config: paths from strings and from_pretrained configs, defaults, batch size, fast_dev_run', () => {
  const o = parseTaskPoolConfig({
    test_datasets: { svhn: { _target_: 'datasets.load_dataset', _args_: ['ufldl-stanford/svhn', 'cropped_digits'], split: 'test' }, mnist },
    base_model: 'openai/clip-vit-base-patch32',
    clip_model: { _target_: 'transformers.CLIPModel.from_pretrained', pretrained_model_name_or_path: 'openai/clip-vit-base-patch32' },
    processor: { _target_: 'transformers.CLIPProcessor.from_pretrained', _args_: ['./local/processor'] },
    dataloader_kwargs: { batch_size: 16, num_workers: 8 },
  });
  assert.deepEqual(o.tasks.map((t) => t.name), ['svhn', 'mnist']);
  assert.deepEqual(o.tasks[0]!.dataset, { path: 'ufldl-stanford/svhn', name: 'cropped_digits', split: 'test' });
  assert.equal(o.clipModel, 'openai/clip-vit-base-patch32');
  assert.equal(o.processor, './local/processor');
  assert.equal(o.dataProcessor, './local/processor');
  assert.equal(o.batchSize, 16);
  assert.equal(o.fastDevRun, null);

  const d = parseTaskPoolConfig({ test_datasets: { mnist }, base_model: 'org/base', fast_dev_run: true });
  assert.deepEqual([d.clipModel, d.processor, d.dataProcessor, d.batchSize, d.fastDevRun], ['org/base', 'org/base', 'org/base', 128, true]);
  assert.equal(layerWiseFeatureNote({ test_datasets: {}, layer_wise_feature_save_path: null, layer_wise_feature_max_num: 1000 }), null);
  assert.match(layerWiseFeatureNote({ test_datasets: {}, layer_wise_feature_save_path: 'feats' }) ?? '', /layer_wise_feature_save_path="feats" is not supported/);
  assert.equal(pretrainedPathOf({ _target_: 'transformers.CLIPModel.from_pretrained', pretrained_model_name_or_path: 'org/m', revision: 'v1' }, 'clip_model'), 'org/m@v1');

  for (const bad of [
    { test_datasets: { mnist } },
    { test_datasets: { mnist }, clip_model: { _target_: 'torch.load', f: 'x' } },
    { test_datasets: { mnist: { _target_: 'torchvision.datasets.MNIST' } }, clip_model: 'a/b' },
    { test_datasets: { mnist }, clip_model: 'a/b', dataloader_kwargs: { batch_size: 0 } },
    { test_datasets: { mnist }, clip_model: 'a/b', dataloader_kwargs: { batch_size: 10_000_000 } },
    { test_datasets: { mnist }, clip_model: 'a/b', dataloader_kwargs: { shuffle: true } },
    { test_datasets: { mnist }, clip_model: 'a/b', dataloader_kwargs: { drop_last: 'yes' } },
    { test_datasets: [mnist], clip_model: 'a/b' },
  ]) {
    assert.throws(() => parseTaskPoolConfig(bad as never), UserError, JSON.stringify(bad));
  }
});

test('metrics: mean of batch means and micro accuracy against a float64 reference', () => {
  const logits = Float32Array.from([2, 1, 0.5, -1, 3, 0, 0.25, 0.25, 0.1, 9, -9, 0, 1, 1, 1]);
  const labels = [0, 1, 2, 0, 1];
  const m = new ClassificationMetrics(3, 'test set');
  m.update(logits.subarray(0, 9), Int32Array.from(labels.slice(0, 3)), 0);
  m.update(logits.subarray(9), Int32Array.from(labels.slice(3)), 3);
  const r = m.result();
  const e = referenceMetrics(logits, labels, 3, 3);
  assert.equal(r.accuracy, e.accuracy);
  assert.ok(Math.abs(r.loss - e.loss) < 1e-12, `${r.loss} vs ${e.loss}`);
  assert.throws(() => m.update(Float32Array.from([0, 0, 0]), Int32Array.from([3]), 5), /test set row 5: label 3 is outside/);

  const report = buildReport({ trainable_params: 4, all_params: 4, trainable_percentage: 1 }, [['a', { accuracy: 0.5, loss: 1 }], ['b', { accuracy: 1, loss: 2 }]]);
  assert.deepEqual(Object.keys(report), ['model_info', 'a', 'b', 'average']);
  assert.deepEqual(report.average, { accuracy: 0.75, loss: 1.5 });
});

test("fusion_bench's svhn_and_mnist task pool config composes, resolves and instantiates", async () => {
  const { composeConfig } = await import('../../src/config/compose.js');
  const { resolveAt } = await import('../../src/config/omegaconf/index.js');
  const { instantiate } = await import('../../src/registry/instantiate.js');
  const { Registry } = await import('../../src/registry/registry.js');
  const { repoRoot } = await import('../helpers/paths.js');
  const { join } = await import('node:path');
  const r = composeConfig({
    configPath: join(repoRoot, 'config'),
    configName: 'fabric_model_fusion',
    overrides: ['taskpool=CLIPVisionModelTaskPool/clip-vit-base-patch32_svhn_and_mnist', 'taskpool.dataloader_kwargs.batch_size=32'],
    runMode: 'RUN',
  });
  const taskpool = resolveAt(r.config, 'taskpool', { env: {}, hydra: r.config.hydra as never });
  const registry = new Registry();
  registry.register('fusion_bench.taskpool.CLIPVisionModelTaskPool', { params: ['test_datasets'], load: async () => (kw) => new CLIPVisionModelTaskPool(kw as never) });
  const pool = (await instantiate(registry, taskpool, {}, 'taskpool')) as CLIPVisionModelTaskPool;
  assert.deepEqual(pool.taskNames, ['svhn', 'mnist']);
  assert.deepEqual(pool.options.tasks.map((t) => t.dataset), [
    { path: 'ufldl-stanford/svhn', name: 'cropped_digits', split: 'test' },
    { path: 'ylecun/mnist', split: 'test' },
  ]);
  assert.deepEqual([pool.options.clipModel, pool.options.processor, pool.options.dataProcessor], Array(3).fill('openai/clip-vit-base-patch32'));
  assert.equal(pool.options.batchSize, 32);

  const ta8 = composeConfig({ configPath: join(repoRoot, 'config'), configName: 'fabric_model_fusion', overrides: ['taskpool=CLIPVisionModelTaskPool/clip-vit-classification_TA8'], runMode: 'RUN' });
  const pool8 = (await instantiate(registry, resolveAt(ta8.config, 'taskpool', { env: {}, hydra: ta8.config.hydra as never }), {}, 'taskpool')) as CLIPVisionModelTaskPool;
  assert.deepEqual(pool8.taskNames, ['sun397', 'stanford-cars', 'resisc45', 'eurosat', 'svhn', 'gtsrb', 'mnist', 'dtd']);
});
