/**
 * The input Gram matrices XᵀX of every nn.Linear of a CLIP vision tower, from the tower's own ONNX graph
 * (src/models/clip/vision-graph.ts): each distinct linear input ([batch·tokens, in], tokens as rows, as
 * fusion_bench's hook reshapes it) feeds one extra Gemm(Xᵀ, X) whose [in, in] result is a graph output,
 * so activations never leave onnxruntime. q/k/v_proj read the same value and share one Gram matrix.
 */
import { ort } from '../../onnx/runtime.js';
import { UserError } from '../../errors.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { DataType } from '../../onnx/model.js';
import type { StateDict } from '../../tensor/types.js';
import type { ClipVisionConfig } from '../../models/clip/config.js';
import { type ClipSessionOptions, createSession, sessionOptions } from '../../models/clip/session.js';
import { addClipVisionTower, VISION_INPUT } from '../../models/clip/vision-graph.js';
import { WeightReader } from '../../models/clip/weights.js';

/** One Gram matrix the graph outputs, and the linear modules whose input it is. */
export interface GramOutput {
  readonly output: string;
  readonly dim: number;
  readonly modules: string[];
}

export function buildClipGramGraph(cfg: ClipVisionConfig, sd: StateDict, opts: Pick<ClipSessionOptions, 'prefix' | 'source'> = {}): { model: Uint8Array; grams: GramOutput[] } {
  const g = new GraphBuilder('clip_vision_gram');
  const w = new WeightReader(sd, opts.source ?? 'vision checkpoint');
  const byValue = new Map<string, GramOutput>();
  addClipVisionTower(g, w, cfg, {
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
    linearInput: (module, x, dim) => {
      let gram = byValue.get(x);
      if (!gram) {
        gram = { output: `gram:${module}`, dim, modules: [] };
        g.output(g.node('Gemm', [x, x], { transA: 1 }), gram.output, DataType.FLOAT, [dim, dim]);
        byValue.set(x, gram);
      }
      gram.modules.push(module);
    },
  });
  return { model: g.build(), grams: [...byValue.values()] };
}

export class ClipGramSession {
  private constructor(private readonly session: ort.InferenceSession, readonly config: ClipVisionConfig, readonly grams: readonly GramOutput[]) {}

  static async create(cfg: ClipVisionConfig, sd: StateDict, opts: Pick<ClipSessionOptions, 'prefix' | 'source' | 'threads' | 'executionProviders' | 'ortOptions'> = {}): Promise<ClipGramSession> {
    const built = buildClipGramGraph(cfg, sd, opts);
    return new ClipGramSession(await createSession(built.model, sessionOptions(opts)), cfg, built.grams);
  }

  /** Token rows per image (patches + CLS). */
  get tokens(): number {
    return (this.config.imageSize / this.config.patchSize) ** 2 + 1;
  }

  /**
   * Σ over the batch's token rows of xᵀx, per Gram output (in `grams` order). With `out` (one buffer per
   * Gram output), onnxruntime writes into those buffers: a loop over batches then allocates nothing.
   */
  async run(pixels: Float32Array, batch: number, out?: readonly Float32Array[]): Promise<Float32Array[]> {
    const c = this.config;
    const per = c.numChannels * c.imageSize * c.imageSize;
    if (!Number.isInteger(batch) || batch < 1 || pixels.length !== batch * per) {
      throw new UserError(`CLIP vision input: ${pixels.length} values for batch ${batch}, expected ${batch} × ${c.numChannels}×${c.imageSize}×${c.imageSize}`);
    }
    const feeds = { [VISION_INPUT]: new ort.Tensor('float32', pixels, [batch, c.numChannels, c.imageSize, c.imageSize]) };
    if (out) {
      const fetches: Record<string, ort.Tensor> = {};
      this.grams.forEach((g, u) => (fetches[g.output] = new ort.Tensor('float32', out[u]!, [g.dim, g.dim])));
      await this.session.run(feeds, fetches);
      return [...out];
    }
    const r = await this.session.run(feeds);
    return this.grams.map((g) => r[g.output]!.data as Float32Array);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
