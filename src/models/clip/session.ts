/**
 * CLIP towers running on onnxruntime-node: the ONNX model is built from a StateDict and handed to an
 * InferenceSession with every core and full graph optimisation. The model bytes hold the graph only; the
 * weights go to onnxruntime as external data (createFromGraph), never joined into one protobuf buffer,
 * and nothing of them is ours once the session exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ort } from '../../onnx/runtime.js';
import { UserError } from '../../errors.js';
import { ensureDir } from '../../util/ensure-dir.js';
import { trackTemp, untrackTemp } from '../../util/cleanup.js';
import { MemoryStateDict } from '../../tensor/memory-state-dict.js';
import type { StateDict } from '../../tensor/types.js';
import type { GraphBuilder } from '../../onnx/graph-builder.js';
import type { Profiler } from '../../util/profiler.js';
import type { ClipTextConfig, ClipVisionConfig } from './config.js';
import type { AttentionImpl } from './encoder-graph.js';
import { clipTextGraph, TEXT_ATTENTION_MASK, TEXT_EMBEDS, TEXT_HIDDEN, TEXT_INPUT_IDS, TEXT_POOLED } from './text-graph.js';
import { clipVisionGraph, VISION_EMBEDS, VISION_HIDDEN, VISION_INPUT, VISION_POOLED } from './vision-graph.js';

export interface ClipSessionOptions {
  /** Bias-free projection weight [projection_dim, hidden] (visual_projection.weight / text_projection.weight). */
  readonly projection?: Float32Array;
  /** intra-op threads (default: all cores). */
  readonly threads?: number;
  /** onnxruntime execution providers, e.g. ['cuda'] on a GPU build (default: cpu). */
  readonly executionProviders?: readonly string[];
  /** 'fused' (default): onnxruntime's Attention contrib op; 'plain': standard ONNX ops. */
  readonly attention?: AttentionImpl;
  /** Also return the encoder's last hidden state. */
  readonly lastHiddenState?: boolean;
  /** Tensor key prefix (default 'vision_model' / 'text_model'). */
  readonly prefix?: string;
  /** Names the checkpoint in error messages. */
  readonly source?: string;
  /** Further onnxruntime session options (e.g. `extra` config entries); they override the defaults above. */
  readonly ortOptions?: ort.InferenceSession.SessionOptions;
  /** Where to record the 'prepare tower weights' and 'create onnxruntime session' times. */
  readonly profiler?: Profiler;
  /**
   * Folder for the scratch weights file of a state dict not in memory (default: the system's temp
   * folder; the task pool gives the run's cache folder, as /tmp may be a tmpfs held in memory); null hands
   * every weight over in memory instead (one more copy of the weights at peak).
   */
  readonly weightsDir?: string | null;
}

/** What creating a session took, in seconds: loading and laying out the weights, then onnxruntime's part. */
export interface SessionTimings {
  readonly weightsS: number;
  readonly createS: number;
}

/**
 * Creates the session from the graph with its weights as external data, so that no copy of all the
 * weights is ever held by us beside onnxruntime's:
 *  - a state dict already in memory hands its arrays over as in-memory external data, uncopied
 *    (onnxruntime copies them into its own memory; a test checks this);
 *  - any other (a checkpoint on disk, a merge computed on demand) is written tensor by tensor into a
 *    scratch file that onnxruntime reads, then deleted: at most one tensor is in our memory at a time.
 */
async function createFromGraph(g: GraphBuilder, sd: StateDict, opts: ClipSessionOptions): Promise<{ session: ort.InferenceSession; timings: SessionTimings }> {
  let t0 = performance.now();
  let source: { model: Uint8Array | string; externalData?: { path: string; data: Uint8Array }[]; dir?: string };
  if (sd instanceof MemoryStateDict || opts.weightsDir === null) {
    const { model, weights } = g.buildExternal();
    source = { model, externalData: weights.map((w) => ({ path: w.path, data: w.data })) };
  } else {
    const parent = opts.weightsDir ?? tmpdir();
    if (opts.weightsDir) ensureDir(parent, 'the folder for ONNX scratch weights');
    const dir = mkdtempSync(join(parent, 'fusion-bench-onnx-'));
    // An interrupted run removes it too (Ctrl-C, SIGTERM).
    trackTemp(dir);
    try {
      source = { model: g.writeExternal(dir), dir };
    } catch (e) {
      removeScratch(dir);
      throw new UserError(`could not write the ONNX model's weights under ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }
  const weightsS = (performance.now() - t0) / 1000;
  opts.profiler?.record('prepare tower weights', weightsS);
  t0 = performance.now();
  let session: ort.InferenceSession;
  try {
    const options = sessionOptions(opts);
    session = await createSession(source.model, source.externalData ? { ...options, externalData: source.externalData } : options);
  } finally {
    if (source.dir) removeScratch(source.dir);
  }
  const createS = (performance.now() - t0) / 1000;
  opts.profiler?.record('create onnxruntime session', createS);
  return { session, timings: { weightsS, createS } };
}

/** Best effort: a file onnxruntime still maps cannot be deleted on Windows (it goes with the temp folder). */
function removeScratch(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
    untrackTemp(dir);
  } catch {
    // left for the system's temp cleanup
  }
}

export interface ClipOutputs {
  /** [batch, hidden] */
  readonly pooled: Float32Array;
  /** [batch, projection_dim], unnormalised (get_image_features / get_text_features); only with a projection. */
  readonly embeds?: Float32Array;
  /** [batch, tokens, hidden]; only with `lastHiddenState`. */
  readonly lastHiddenState?: Float32Array;
}

/**
 * The execution providers: the caller's, else FUSION_BENCH_ORT_PROVIDERS (`cuda,cpu` on a GPU machine
 * whose onnxruntime-node has its CUDA libraries installed), else the CPU.
 */
export function defaultExecutionProviders(env: NodeJS.ProcessEnv = process.env): string[] {
  const v = env.FUSION_BENCH_ORT_PROVIDERS?.trim();
  const names = v ? v.split(',').map((p) => p.trim()).filter(Boolean) : ['cpu'];
  const unknown = names.filter((n) => !knownProviders().includes(n));
  if (unknown.length > 0) throw new UserError(`FUSION_BENCH_ORT_PROVIDERS=${v}: ${unknownProviders(unknown)}`);
  return names;
}

/** The execution providers this onnxruntime-node build can name (cpu, cuda, … per platform). */
function knownProviders(): string[] {
  return ort.listSupportedBackends().map((b) => b.name);
}

function unknownProviders(names: string[]): string {
  return `unknown onnxruntime execution provider${names.length > 1 ? 's' : ''} ${names.map((n) => `'${n}'`).join(', ')} (expected a comma-separated list of ${knownProviders().join(', ')}, e.g. cuda,cpu)`;
}


// onnxruntime's own log lines (coloured, on stderr) repeat what its exceptions say; we report those.
ort.env.logLevel = 'fatal';

/** A session, with a provider that cannot start reported as what to do about it. */
export async function createSession(model: Uint8Array | string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await (typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options));
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    const providers = (options.executionProviders ?? []).map(String).filter((p) => p !== 'cpu');
    const unknown = providers.filter((p) => !knownProviders().includes(p));
    if (unknown.length > 0 && /backend not found/i.test(msg)) throw new UserError(unknownProviders(unknown), { cause: e });
    if (providers.length && /ExecutionProvider|shared library|provider/i.test(msg)) {
      throw new UserError(
        `onnxruntime could not start the execution provider(s) ${providers.join(', ')}: ${msg}\n` +
          `onnxruntime-node ships its CPU library only; on a GPU machine with CUDA 12 and cuDNN 9, fetch its CUDA libraries with\n` +
          `  node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12\n` +
          `or run on the CPU (unset FUSION_BENCH_ORT_PROVIDERS).`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** FUSION_BENCH_ORT_THREADS: a launcher running several jobs side by side gives each its share of the cores. */
function envThreads(): number | undefined {
  const n = Number(process.env.FUSION_BENCH_ORT_THREADS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function sessionOptions(opts: ClipSessionOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: opts.executionProviders ? [...opts.executionProviders] : defaultExecutionProviders(),
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? envThreads() ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Warnings (e.g. about nodes assigned to the CPU provider) are not the user's business.
    logSeverityLevel: 3,
    ...opts.ortOptions,
  };
}

function outputsOf(r: ort.InferenceSession.ReturnType, pooled: string, embeds: string, hidden: string): ClipOutputs {
  const f = (name: string) => (r[name] ? (r[name]!.data as Float32Array) : undefined);
  const out: { pooled: Float32Array; embeds?: Float32Array; lastHiddenState?: Float32Array } = { pooled: f(pooled)! };
  const e = f(embeds);
  if (e) out.embeds = e;
  const h = f(hidden);
  if (h) out.lastHiddenState = h;
  return out;
}

export class ClipVisionSession {
  private constructor(private readonly session: ort.InferenceSession, readonly config: ClipVisionConfig, readonly timings: SessionTimings) {}

  static async create(config: ClipVisionConfig, stateDict: StateDict, opts: ClipSessionOptions = {}): Promise<ClipVisionSession> {
    const { session, timings } = await createFromGraph(clipVisionGraph(config, stateDict, opts), stateDict, opts);
    return new ClipVisionSession(session, config, timings);
  }

  /** Values per image in `pixelValues` ([batch, channels, image_size, image_size], row-major). */
  get imageValues(): number {
    return this.config.numChannels * this.config.imageSize * this.config.imageSize;
  }

  async run(pixelValues: Float32Array, batch: number): Promise<ClipOutputs> {
    const c = this.config;
    if (!Number.isInteger(batch) || batch < 1 || pixelValues.length !== batch * this.imageValues) {
      throw new UserError(
        `CLIP vision input: ${pixelValues.length} values for batch ${batch}, expected ${batch} × ${c.numChannels}×${c.imageSize}×${c.imageSize}`,
      );
    }
    const input = new ort.Tensor('float32', pixelValues, [batch, c.numChannels, c.imageSize, c.imageSize]);
    const r = await this.session.run({ [VISION_INPUT]: input });
    return outputsOf(r, VISION_POOLED, VISION_EMBEDS, VISION_HIDDEN);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export class ClipTextSession {
  private constructor(private readonly session: ort.InferenceSession, readonly config: ClipTextConfig, readonly timings: SessionTimings) {}

  static async create(config: ClipTextConfig, stateDict: StateDict, opts: ClipSessionOptions = {}): Promise<ClipTextSession> {
    const { session, timings } = await createFromGraph(clipTextGraph(config, stateDict, opts), stateDict, opts);
    return new ClipTextSession(session, config, timings);
  }

  /**
   * `inputIds` (and `attentionMask`, all ones when omitted) are [batch, seq] row-major; seq ≤
   * max_position_embeddings. The mask changes only hidden states at masked positions, never the pooled output.
   */
  async run(inputIds: BigInt64Array | readonly number[], batch: number, attentionMask?: BigInt64Array | readonly number[]): Promise<ClipOutputs> {
    const c = this.config;
    const ids = inputIds instanceof BigInt64Array ? inputIds : BigInt64Array.from(inputIds, (v) => BigInt(v));
    const seq = ids.length / batch;
    if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(seq) || seq < 1) {
      throw new UserError(`CLIP text input: ${ids.length} token ids do not split into batch ${batch}`);
    }
    if (seq > c.maxPositionEmbeddings) {
      throw new UserError(`CLIP text input: sequence length ${seq} exceeds max_position_embeddings ${c.maxPositionEmbeddings}`);
    }
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i]!;
      if (v < 0n || v >= BigInt(c.vocabSize)) throw new UserError(`CLIP text input: token id ${v} is outside the vocabulary (size ${c.vocabSize})`);
    }
    let mask: BigInt64Array;
    if (attentionMask === undefined) mask = new BigInt64Array(ids.length).fill(1n);
    else mask = attentionMask instanceof BigInt64Array ? attentionMask : BigInt64Array.from(attentionMask, (v) => BigInt(v));
    if (mask.length !== ids.length) throw new UserError(`CLIP text input: attention_mask has ${mask.length} values, input_ids ${ids.length}`);
    const r = await this.session.run({
      [TEXT_INPUT_IDS]: new ort.Tensor('int64', ids, [batch, seq]),
      [TEXT_ATTENTION_MASK]: new ort.Tensor('int64', mask, [batch, seq]),
    });
    return outputsOf(r, TEXT_POOLED, TEXT_EMBEDS, TEXT_HIDDEN);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
