/**
 * One preprocessing thread per process, started on first use and kept (unref'd, so it never holds the
 * process open) for every later evaluation: onnxruntime-node runs a session synchronously on the main
 * thread, so the next batch can only be decoded and preprocessed meanwhile on another thread. Jobs are
 * answered in order; the batch buffer travels to the thread and back without copying, and so do the
 * images' bytes (the caller's own copies, transferred) and the crops (in shared memory: the crop cache
 * keeps what the thread made, and sending a cached crop back shares it).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../../errors.js';
import type { CLIPImageProcessorConfig } from '../../models/clip/image-processor.js';

export interface PreprocessItem {
  /** The image's stored (encoded) bytes, or… */
  bytes?: Uint8Array;
  /** …its cached uint8 centre crop, to rescale and normalise only. */
  crop?: { data: Uint8Array; height: number; width: number };
  /** Names the row in error messages. */
  where: string;
}

export interface PreprocessJob {
  id: number;
  config: CLIPImageProcessorConfig;
  items: PreprocessItem[];
  keepCrops: boolean;
  /** Floats per image in `out`. */
  per: number;
  out: ArrayBuffer;
}

export interface CropOut {
  /** Backed by a SharedArrayBuffer of its own. */
  data: Uint8Array;
  height: number;
  width: number;
}

export interface PreprocessReply {
  id: number;
  out: ArrayBuffer;
  /** Per item: the crop decoded for the cache (keepCrops), else null. */
  crops: (CropOut | null)[];
  error?: { message: string; user: boolean };
}

export class PreprocessThread {
  private readonly worker: Worker;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: PreprocessReply) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL('./preprocess-worker.js', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (r: PreprocessReply) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) this.worker.unref();
      w?.resolve(r);
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the image preprocessing thread exited (code ${code})`)));
  }

  get usable(): boolean {
    return this.failed === null;
  }

  /**
   * Preprocesses `items` into `out` (transferred there and back: use the returned buffer). `give`: buffers
   * of the items' bytes that the caller hands over (transferred, not copied).
   */
  run(config: CLIPImageProcessorConfig, items: PreprocessItem[], per: number, out: ArrayBuffer, keepCrops: boolean, give: ArrayBuffer[] = []): Promise<{ out: ArrayBuffer; crops: (CropOut | null)[] }> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    const job: PreprocessJob = { id, config, items, keepCrops, per, out };
    return new Promise<PreprocessReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Held open only while a job is out, so an unfinished evaluation cannot end the process early.
      this.worker.ref();
      this.worker.postMessage(job, [out, ...give]);
    }).then((r) => {
      if (r.error) throw r.error.user ? new UserError(r.error.message) : new Error(r.error.message);
      return { out: r.out, crops: r.crops };
    });
  }
}

let shared: PreprocessThread | null = null;

/** The process's preprocessing thread (started now if needed); null when threads cannot be started. */
export function preprocessThread(): PreprocessThread | null {
  if (shared?.usable) return shared;
  try {
    shared = new PreprocessThread();
  } catch {
    shared = null;
  }
  return shared;
}

/**
 * Below this many images, an evaluation preprocesses on the main thread: starting the thread (once per
 * process) costs about as much as preprocessing this many small images does (README, speed section).
 */
export const PIPELINE_MIN_IMAGES = 1024;

/**
 * Whether an evaluation of `images` images in batches of `batchSize` preprocesses on the thread:
 * FUSION_BENCH_PREPROCESS_THREAD=1 or 0 decides; by default, when there are two cores or more, two
 * batches or more, and at least PIPELINE_MIN_IMAGES images, or the thread is already running.
 */
export function usePreprocessThread(images: number, batchSize: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.FUSION_BENCH_PREPROCESS_THREAD?.trim();
  if (v === '1') return true;
  if (v === '0') return false;
  if (images <= batchSize || availableParallelism() < 2) return false;
  return images >= PIPELINE_MIN_IMAGES || shared?.usable === true;
}
