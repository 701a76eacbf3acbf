/**
 * The preprocessing thread's side (see preprocess-thread.ts): decodes images from their stored bytes
 * and preprocesses them into the batch buffer it is lent, with the same CLIPImageProcessor code the main
 * thread would run, so the pixel values are the same bit for bit. With `keepCrops`, it also returns each
 * decoded image's uint8 centre crop for the in-memory crop cache, in shared memory; cached crops come in
 * and are only rescaled and normalised.
 */
import { parentPort } from 'node:worker_threads';
import { UserError } from '../../errors.js';
import { decodeImageRGB } from '../../image/decode.js';
import { CLIPImageProcessor, type CLIPImageProcessorConfig } from '../../models/clip/image-processor.js';
import type { PreprocessJob, PreprocessReply, CropOut } from './preprocess-thread.js';

const processors = new Map<string, { full: CLIPImageProcessor; normalizer: CLIPImageProcessor }>();

function processorsFor(config: CLIPImageProcessorConfig): { full: CLIPImageProcessor; normalizer: CLIPImageProcessor } {
  const key = JSON.stringify(config);
  let p = processors.get(key);
  if (p === undefined) {
    p = { full: new CLIPImageProcessor(config), normalizer: new CLIPImageProcessor({ ...config, doResize: false, doCenterCrop: false }) };
    processors.set(key, p);
  }
  return p;
}

function run(job: PreprocessJob): PreprocessReply {
  const out = new Float32Array(job.out);
  const { full, normalizer } = processorsFor(job.config);
  const crops: (CropOut | null)[] = [];
  try {
    job.items.forEach((item, k) => {
      if (item.crop) {
        normalizer.preprocessInto({ width: item.crop.width, height: item.crop.height, channels: 3, mode: 'RGB', data: item.crop.data }, out, k * job.per);
        crops.push(null);
        return;
      }
      const image = decodeImageRGB(item.bytes!, item.where);
      if (job.keepCrops) {
        const crop = full.resizeCropU8(image, (n) => new Uint8Array(new SharedArrayBuffer(n)));
        normalizer.preprocessInto({ width: crop.width, height: crop.height, channels: 3, mode: 'RGB', data: crop.data }, out, k * job.per);
        crops.push(crop);
      } else {
        full.preprocessInto(image, out, k * job.per);
        crops.push(null);
      }
    });
  } catch (e) {
    return { id: job.id, out: job.out, crops: [], error: { message: (e as Error)?.message ?? String(e), user: e instanceof UserError } };
  }
  return { id: job.id, out: job.out, crops };
}

parentPort!.on('message', (job: PreprocessJob) => {
  const reply = run(job);
  // the crops are shared memory: posted, not transferred
  parentPort!.postMessage(reply, [reply.out]);
});
