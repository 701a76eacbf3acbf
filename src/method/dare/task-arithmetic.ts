/**
 * fusion_bench's DareTaskArithmetic: task vectors with random drop (and rescale), summed in model order,
 * scaled, added to the pretrained weights.
 */
import type { Model } from '../../modelpool/model.js';
import { addInPlace, baseAddScaled } from '../f32.js';
import { Params } from '../params.js';
import { isMerged, loadTaskVectorSources, mergedModel, Scratch, type PoolInput } from '../sources.js';
import { taskVectorReader } from '../task-vectors.js';
import { dareReader, type DareOptions } from './dare-reader.js';
import { dareOptions } from './options.js';
import type { RunContext } from '../../run-context.js';

const NAME = 'DareTaskArithmetic';

/** The DARE task-arithmetic merge, shared with DareSimpleAverage. */
export async function dareTaskArithmetic(owner: string, input: PoolInput, scaling: (modelCount: number) => number, dare: DareOptions): Promise<Model> {
  const { set, base, finetuned } = await loadTaskVectorSources(owner, input);
  const sd = base.model.stateDict;
  const reader = dareReader(taskVectorReader(base, finetuned, sd.names().filter((n) => isMerged(sd.info(n)))), base, finetuned, dare);
  const s = scaling(finetuned.length);
  const scratch = new Scratch();
  return mergedModel(owner, base, set, (name) => {
    const { base: theta0, tvs } = reader.read(name, scratch);
    const acc = new Float32Array(tvs[0]!); // fresh: it becomes the merged tensor
    for (let t = 1; t < tvs.length; t++) addInPlace(acc, tvs[t]!);
    baseAddScaled(acc, theta0, s, acc);
    return acc;
  });
}

export class DareTaskArithmetic {
  static readonly configKeys: readonly string[] = ['scaling_factor', 'sparsity_ratio', 'only_on_linear_weights', 'rescale'];
  readonly scaling_factor: number;
  readonly dare: DareOptions;

  constructor(config: Record<string, unknown>, ctx?: RunContext) {
    const p = new Params(config, NAME);
    this.scaling_factor = p.number('scaling_factor');
    this.dare = dareOptions(p, true, ctx);
  }

  async run(input: PoolInput): Promise<Model> {
    return dareTaskArithmetic(NAME, input, () => this.scaling_factor, this.dare);
  }
}
