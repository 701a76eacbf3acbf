/**
 * The synthetic images bench/clip-eval evaluates and bench/jpeg-decode times preprocessing on: gradients
 * with a little noise (deterministic), as JPEG (jpeg-js, quality 90, 4:4:4) or RGB PNG.
 */
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';

export function syntheticImages(count: number, imgH: number, imgW: number, format: 'jpeg' | 'png'): Uint8Array[] {
  let s = 7;
  return Array.from({ length: count }, (_, k) => {
    const data = new Uint8Array(imgH * imgW * 4);
    for (let i = 0; i < data.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      data[i] = (((i >> 2) % imgW) + (((i >> 2) / imgW) | 0) + k * 7 + (s >>> 29)) & 255;
    }
    if (format === 'jpeg') return new Uint8Array(jpeg.encode({ data, width: imgW, height: imgH }, 90).data);
    const rgb = new Uint8Array(imgH * imgW * 3);
    for (let p = 0; p < imgH * imgW; p++) rgb.set(data.subarray(4 * p, 4 * p + 3), 3 * p);
    return encodePng({ width: imgW, height: imgH, channels: 3, depth: 8, data: rgb });
  });
}

/** openai/clip-vit-base-patch32's preprocessor_config.json. */
export const OPENAI_224_PREPROCESSOR = {
  crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor',
  image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], resample: 3, size: 224,
};
