/** Dataset cards (README front matter), data_files specs, split names and glob patterns. */
import fc from 'fast-check';
import { dataFilesBySplit, globToRegExp, matchFiles, parseDatasetCard, resolveSplitFiles, type DataFilesSpec } from '../../src/data/data-files.js';
import { steps, type FuzzTarget } from '../harness.js';
import { clip, mutatedText } from '../mutate.js';

const CARDS = [
  '---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n  - split: test\n    path: data/test-*\n---\n# card\n',
  '---\nconfigs:\n- config_name: mnist\n  default: true\n  data_files:\n    train: mnist/train-*.parquet\n    test: [mnist/test-*.parquet]\n- config_name: other\n  data_dir: other\ndataset_info:\n  features:\n  - name: label\n    dtype:\n      class_label:\n        names:\n          \'0\': zero\n          \'1\': one\n---\n',
  '---\nlicense: mit\n---\n',
];
const TOKENS = ['\n', '- ', ': ', '  ', 'split', 'path', 'data_files', 'config_name', '__proto__', 'constructor', 'toString', '*', '**', '?', '[', ']', '[!', '{', '}', '&a', '*a', '---'];
const FILES = [
  'README.md', 'data/train-00000-of-00001.parquet', 'data/test-00000-of-00002.parquet', 'data/test-00001-of-00002.parquet', 'mnist/train-0.parquet',
  'mnist/test-0.parquet', 'other/validation/x.parquet', 'other/test.parquet', 'a/b/c/d.parquet', '.hidden/x.parquet', '_private/y.parquet',
];
const SPLITS = ['train', 'test', 'validation', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''];
const PATTERN_TOKENS = ['*', '**', '**/', '?', '[', ']', '[!', 'a', '/', '.parquet', 'data', '\\', '-', '^', '$', '(', ')', '|', '{', '}'];

export interface CardInput {
  card: string;
  name: string | undefined;
  split: string;
  spec: DataFilesSpec;
  patterns: string[];
}

const pattern = fc.oneof(
  mutatedText(['data/train-*', '**/*.parquet', 'mnist/test-*.parquet', '**[-._ 0-9/]test[-._ 0-9]*', '[!_]*/*'], PATTERN_TOKENS),
  fc.integer({ min: 1, max: 300 }).map((n) => '*a'.repeat(n) + 'b'),
  fc.integer({ min: 1, max: 300 }).map((n) => '**a'.repeat(n) + 'b'),
);
const spec: fc.Arbitrary<DataFilesSpec> = fc.oneof(
  pattern,
  fc.array(pattern, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom(...SPLITS), fc.oneof(pattern, fc.array(pattern, { maxLength: 2 }))),
);

export const datasetCardTarget: FuzzTarget<CardInput> = {
  name: 'dataset-card',
  description: 'a dataset card, data_files, a split name and glob patterns: parseDatasetCard, resolveSplitFiles, dataFilesBySplit, matchFiles',
  arbitrary: () =>
    fc.record({
      card: fc.oneof(mutatedText(CARDS, TOKENS), fc.integer({ min: 1, max: 3000 }).map((n) => `---\na: ${'['.repeat(n)}${']'.repeat(n)}\n---\n`)),
      name: fc.option(fc.constantFrom('default', 'mnist', 'other', '__proto__', 'nope'), { nil: undefined }),
      split: fc.constantFrom(...SPLITS),
      spec,
      patterns: fc.array(pattern, { minLength: 1, maxLength: 3 }),
    }),
  run: (inp) =>
    steps(
      () => resolveSplitFiles(FILES, parseDatasetCard(inp.card, 'fuzz dataset'), inp.name, inp.split, 'fuzz dataset'),
      () => {
        for (const list of Object.values(dataFilesBySplit(inp.spec, 'fuzz dataset'))) matchFiles(FILES, list);
      },
      () => matchFiles(FILES, inp.patterns),
      () => {
        for (const p of inp.patterns) globToRegExp(p).test('a'.repeat(200));
      },
    ),
  show: (i) => clip(JSON.stringify(i), 600),
};
