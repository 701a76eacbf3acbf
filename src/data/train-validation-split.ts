/**
 * fusion_bench.utils.data.train_validation_split: `torch.utils.data.random_split(dataset, [train, val],
 * generator=torch.Generator().manual_seed(random_seed))`, with torch's own randperm (./torch-random.ts),
 * so the validation rows are the ones fusion_bench evaluates on. The parts are views of the dataset
 * (torch's Subset): row k of a part is row `indices[k]` of the dataset.
 */
import { isFloat } from '../config/values.js';
import { UserError } from '../errors.js';
import type { DecodedImage } from '../image/decode.js';
import { MT19937, torchRandperm } from './torch-random.js';

/** What the evaluation reads of an image-classification dataset (ImageClassificationDataset has it). */
export interface ImageRows {
  readonly name: string;
  readonly length: number;
  getRGB(i: number): Promise<{ image: DecodedImage; label: number }>;
}

export type ReturnSplit = 'train' | 'val' | 'all' | 'both';

export interface SplitOptions {
  validation_fraction: number | null;
  validation_size: number | null;
  random_seed: number | null;
  return_split: ReturnSplit;
}

/** torch's Subset: rows `indices` of `dataset`, in that order. */
export class SubsetDataset<D extends ImageRows = ImageRows> implements ImageRows {
  readonly length: number;
  constructor(
    readonly dataset: D,
    readonly indices: Int32Array | Float64Array,
    readonly name: string,
    /** The generator seed that drew the indices, where a split made them (for the run record). */
    readonly seed: number | null = null,
  ) {
    this.length = indices.length;
  }

  /** The row of the underlying dataset that row i of this subset is. */
  sourceRow(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`${this.name}: row ${i} is outside 0..${this.length - 1}`);
    return this.indices[i]!;
  }

  getRGB(i: number): Promise<{ image: DecodedImage; label: number }> {
    return this.dataset.getRGB(this.sourceRow(i));
  }
}

const WHERE = 'fusion_bench.utils.data.train_validation_split';

function plain(v: unknown): unknown {
  return isFloat(v) ? v.value : v;
}

/** The split's keyword arguments, checked as fusion_bench's asserts do, with one message per mistake. */
export function parseSplitOptions(kw: Readonly<Record<string, unknown>>, where = WHERE): SplitOptions {
  const known = new Set(['dataset', 'validation_fraction', 'validation_size', 'random_seed', 'return_split']);
  for (const k of Object.keys(kw)) {
    if (!known.has(k) && !(k.startsWith('_') && k.endsWith('_'))) throw new UserError(`${where}: unexpected argument '${k}' (expected ${[...known].join(', ')})`);
  }
  const fraction = 'validation_fraction' in kw ? plain(kw.validation_fraction) ?? null : 0.1;
  const size = plain(kw.validation_size) ?? null;
  const seed = plain(kw.random_seed) ?? null;
  const ret = plain(kw.return_split) ?? 'both';
  if (fraction !== null && size !== null) throw new UserError(`${where}: give only one of validation_fraction (${String(fraction)}) and validation_size (${String(size)}); set the other to null`);
  if (fraction === null && size === null) throw new UserError(`${where}: either validation_fraction or validation_size must be given`);
  if (fraction !== null && (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1))) throw new UserError(`${where}.validation_fraction: must be between 0 and 1 (exclusive), got ${JSON.stringify(fraction)}`);
  if (size !== null && (typeof size !== 'number' || !Number.isInteger(size) || size < 0)) throw new UserError(`${where}.validation_size: must be a non-negative integer, got ${JSON.stringify(size)}`);
  if (seed !== null && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) throw new UserError(`${where}.random_seed: must be an integer or null, got ${JSON.stringify(seed)}`);
  if (ret !== 'train' && ret !== 'val' && ret !== 'all' && ret !== 'both') throw new UserError(`${where}.return_split: must be 'train', 'val' or 'all', got ${JSON.stringify(ret)}`);
  return { validation_fraction: fraction as number | null, validation_size: size as number | null, random_seed: seed as number | null, return_split: ret };
}

/** [training rows, validation rows] for a dataset of n rows, as fusion_bench computes them. */
export function splitSizes(n: number, o: SplitOptions, where = WHERE): [number, number] {
  if (o.validation_size === null) {
    // Python's int(num_samples * validation_fraction): the float64 product, truncated.
    const val = Math.trunc(n * o.validation_fraction!);
    return [n - val, val];
  }
  if (!(o.validation_size < n)) throw new UserError(`${where}: validation_size (${o.validation_size}) must be less than the dataset's ${n} rows`);
  return [n - o.validation_size, o.validation_size];
}

/**
 * The seed the split's generator gets: `random_seed`; when null, fusion_bench draws from torch's
 * default generator, which the program's `seed` seeds (`programSeed`); with neither, a random seed.
 */
export function effectiveSplitSeed(o: SplitOptions, programSeed: number | null = null): number {
  if (o.random_seed !== null) return o.random_seed;
  if (programSeed !== null) return programSeed;
  return Math.floor(Math.random() * 2 ** 32);
}

/** torch.utils.data.random_split for two lengths: the permutation's first `train` rows, then the rest. */
export function randomSplitIndices(n: number, lengths: readonly [number, number], seed: number): [Int32Array | Float64Array, Int32Array | Float64Array] {
  if (lengths[0] + lengths[1] !== n) throw new RangeError(`random_split: lengths ${lengths.join(' + ')} do not add up to the ${n} rows`);
  const perm = torchRandperm(n, new MT19937(seed));
  return [perm.slice(0, lengths[0]), perm.slice(lengths[0], n)];
}

/**
 * train_validation_split over a dataset: the part `return_split` names, or both as [train, val]
 * ('all', and 'both', which fusion_bench's signature defaults to but its body rejects).
 */
export function trainValidationSplit<D extends ImageRows>(dataset: D, o: SplitOptions, where = WHERE, programSeed: number | null = null): SubsetDataset<D> | [SubsetDataset<D>, SubsetDataset<D>] {
  if (!dataset || typeof (dataset as ImageRows).getRGB !== 'function' || typeof (dataset as ImageRows).length !== 'number') {
    throw new UserError(`${where}.dataset: expected a dataset (e.g. {_target_: datasets.load_dataset, ...}), got ${describe(dataset)}`);
  }
  const sizes = splitSizes(dataset.length, o, where);
  const seed = effectiveSplitSeed(o, programSeed);
  const [train, val] = randomSplitIndices(dataset.length, sizes, seed);
  const label = (part: string) => `${dataset.name} [${part} part of train_validation_split, seed ${seed}]`;
  const t = new SubsetDataset(dataset, train, label('train'), seed);
  const v = new SubsetDataset(dataset, val, label('validation'), seed);
  if (o.return_split === 'train') return t;
  if (o.return_split === 'val') return v;
  return [t, v];
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).slice(0, 5).join(', ') || '(none)'}`;
  return JSON.stringify(v);
}
