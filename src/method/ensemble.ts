/**
 * fusion_bench's ensembles (SimpleEnsembleAlgorithm, WeightedEnsembleAlgorithm,
 * MaxModelPredictorAlgorithm): nothing is merged; the pool's models become an `Ensemble` whose members'
 * outputs the task pool aggregates (mean, weighted sum, element-wise max), as fusion_bench's ensemble
 * modules do.
 */
import { UserError } from '../errors.js';
import { f32 } from './f32.js';
import { readParams, type ParamDef } from './param-def.js';
import { Ensemble, type EnsembleCombine } from './result.js';
import { SourceSet, toPool, type PoolInput } from './sources.js';

async function loadMembers(owner: string, input: PoolInput, combine: EnsembleCombine, weights: (n: number) => number[] | null): Promise<Ensemble> {
  const pool = toPool(input);
  const names = pool.modelNames;
  if (names.length === 0) throw new UserError(`${owner}: the model pool has no models to ensemble`);
  const w = weights(names.length); // checked before any model is opened
  const set = await SourceSet.load(pool, names);
  return new Ensemble(set.list, combine, w, () => set.close());
}

export class SimpleEnsembleAlgorithm {
  static readonly params: readonly ParamDef[] = [
    { name: 'device_map', type: 'any', default: null, doc: 'accepted as fusion_bench does; every member runs in its own onnxruntime session' },
  ];
  static readonly configKeys: readonly string[] = SimpleEnsembleAlgorithm.params.map((d) => d.name);
  static readonly summary = 'ensemble: the mean of the members’ outputs';
  readonly device_map: unknown;

  constructor(config: Record<string, unknown> = {}) {
    this.device_map = readParams('SimpleEnsembleAlgorithm', SimpleEnsembleAlgorithm.params, config).device_map;
  }

  async run(input: PoolInput): Promise<Ensemble> {
    return loadMembers('SimpleEnsembleAlgorithm', input, 'mean', () => null);
  }
}

const WEIGHTED = 'WeightedEnsembleAlgorithm';

export class WeightedEnsembleAlgorithm {
  static readonly params: readonly ParamDef[] = [
    { name: 'normalize', type: 'bool', default: true, doc: 'divide the weights by their sum' },
    { name: 'weights', type: 'float[]', default: null, doc: 'one weight per model (default: 1/n each)' },
  ];
  static readonly configKeys: readonly string[] = WeightedEnsembleAlgorithm.params.map((d) => d.name);
  static readonly summary = 'ensemble: the weighted sum of the members’ outputs';
  readonly normalize: boolean;
  readonly weights: readonly number[] | null;

  constructor(config: Record<string, unknown> = {}) {
    const v = readParams(WEIGHTED, WeightedEnsembleAlgorithm.params, config);
    this.normalize = v.normalize as boolean;
    this.weights = v.weights as number[] | null;
  }

  /** The members' weights in float32 (torch.tensor of a list), normalised in float32 as torch does. */
  memberWeights(n: number): number[] {
    if (this.weights === null) return Array.from({ length: n }, () => 1 / n);
    if (this.weights.length !== n) throw new UserError(`${WEIGHTED}: ${this.weights.length} weights for ${n} models; give one weight per model`);
    const w = this.weights.map(f32);
    if (!this.normalize) return w;
    let total = 0;
    for (const x of w) total = f32(total + x);
    if (total === 0) throw new UserError(`${WEIGHTED}: the weights [${this.weights.join(', ')}] sum to zero; they cannot be normalised`);
    return w.map((x) => f32(x / total));
  }

  async run(input: PoolInput): Promise<Ensemble> {
    return loadMembers(WEIGHTED, input, 'weighted', (n) => this.memberWeights(n));
  }
}

export class MaxModelPredictorAlgorithm {
  static readonly params: readonly ParamDef[] = [];
  static readonly configKeys: readonly string[] = [];
  static readonly summary = 'ensemble: the element-wise max of the members’ outputs';

  constructor(config: Record<string, unknown> = {}) {
    readParams('MaxModelPredictorAlgorithm', MaxModelPredictorAlgorithm.params, config);
  }

  async run(input: PoolInput): Promise<Ensemble> {
    return loadMembers('MaxModelPredictorAlgorithm', input, 'max-model', () => null);
  }
}
