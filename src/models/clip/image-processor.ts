/**
 * transformers' `CLIPImageProcessor`: convert to RGB, shortest-edge resize on uint8 with Pillow's
 * filter, centre crop (zero padding when the image is smaller), rescale and normalise in float32,
 * channels first. Results go straight into a caller's batch buffer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { MAX_IMAGE_PIXELS, toRGB, type DecodedImage } from '../../image/decode.js';
import { filterFromPilCode, resizeU8, type ResampleFilter, type ResizeScratch } from '../../image/resample.js';
import { cropU8, resizeCropKernels } from '../../image/resize-crop.js';

export const OPENAI_CLIP_MEAN: readonly number[] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: readonly number[] = [0.26862954, 0.26130258, 0.27577711];

/** Largest height, width or shortest edge a preprocessor config may ask for (CLIP uses 224 to 448): one 4096² image is 200 MB of floats. */
export const MAX_SIDE = 4096;

export type ResizeSize = { shortestEdge: number } | { height: number; width: number };

export interface CLIPImageProcessorConfig {
  doResize: boolean;
  size: ResizeSize;
  resample: ResampleFilter;
  doCenterCrop: boolean;
  cropSize: { height: number; width: number };
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
  doConvertRgb: boolean;
}

/** transformers' `get_resize_output_image_size(default_to_square=False)`: the long edge is int(S × long / short). */
export function shortestEdgeResizeSize(height: number, width: number, shortest: number): { height: number; width: number } {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((shortest * long) / short);
  return width <= height ? { height: newLong, width: shortest } : { height: shortest, width: newLong };
}

export class CLIPImageProcessor {
  readonly config: CLIPImageProcessorConfig;
  /** Per channel, the float32 value of each uint8 after rescale + normalise (256 × 3). */
  private readonly lut: Float32Array;
  private resized = new Uint8Array(0);
  private readonly scratch: ResizeScratch = { buf: new Uint8Array(0) };

  constructor(config: CLIPImageProcessorConfig) {
    this.config = config;
    this.lut = buildLut(config);
  }

  /** From the parsed `preprocessor_config.json` (new-style dict sizes or legacy integers). */
  static fromConfig(json: unknown, source = 'preprocessor_config.json'): CLIPImageProcessor {
    return new CLIPImageProcessor(parseConfig(json, source));
  }

  static fromFile(path: string): CLIPImageProcessor {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UserError(`cannot read image processor config ${path}: ${(e as Error).message}`);
    }
    return CLIPImageProcessor.fromConfig(json, path);
  }

  static fromDir(dir: string): CLIPImageProcessor {
    return CLIPImageProcessor.fromFile(join(dir, 'preprocessor_config.json'));
  }

  /** Height and width of `pixel_values` for an input of the given size. */
  outputSize(height: number, width: number): { height: number; width: number } {
    if (this.config.doCenterCrop) return { ...this.config.cropSize };
    return this.config.doResize ? this.resizeSize(height, width) : { height, width };
  }

  /** The size the resize step produces. */
  resizeSize(height: number, width: number): { height: number; width: number } {
    const s = this.config.size;
    return 'shortestEdge' in s ? shortestEdgeResizeSize(height, width, s.shortestEdge) : { height: s.height, width: s.width };
  }

  /** The RGB uint8 image after resizing (a view of an internal buffer, valid until the next call). */
  resize(img: DecodedImage): { width: number; height: number; channels: 3; data: Uint8Array } {
    const rgb = img.mode === 'RGB' ? img : toRGB(img);
    if (!this.config.doResize) return { width: rgb.width, height: rgb.height, channels: 3, data: rgb.data };
    const { height, width } = this.checkedResizeSize(rgb);
    const n = height * width * 3;
    if (this.resized.length < n) this.resized = new Uint8Array(n);
    const data = resizeU8(rgb, width, height, this.config.resample, this.resized.subarray(0, n), this.scratch);
    return { width, height, channels: 3, data };
  }

  /** The size `rgb` resizes to (its own without do_resize); refuses sizes past PIL's pixel limit. */
  private checkedResizeSize(rgb: DecodedImage): { height: number; width: number } {
    if (!this.config.doResize) return { height: rgb.height, width: rgb.width };
    const { height, width } = this.resizeSize(rgb.height, rgb.width);
    if (height * width > MAX_IMAGE_PIXELS) {
      throw new UserError(`an image of ${rgb.width}x${rgb.height} resizes to ${width}x${height} (shortest edge to ${Math.min(width, height)}): too many pixels; its aspect ratio is too extreme to preprocess`);
    }
    return { height, width };
  }

  /**
   * `centerCropU8(resize(img))` in a fresh array (from `alloc` when given); with WebAssembly SIMD, only
   * the pixels the crop keeps are resized.
   */
  resizeCropU8(img: DecodedImage, alloc?: (bytes: number) => Uint8Array): { width: number; height: number; data: Uint8Array } {
    const k = resizeCropKernels();
    if (k === null) {
      const c = this.centerCropU8(this.resize(img));
      if (!alloc) return c;
      const data = alloc(c.data.length);
      data.set(c.data);
      return { ...c, data };
    }
    const rgb = img.mode === 'RGB' ? img : toRGB(img);
    const { height, width } = this.checkedResizeSize(rgb);
    const win = this.cropWindow(height, width);
    return { width: win.width, height: win.height, data: k.resizeCrop(rgb, width, height, win, this.config.resample, alloc?.(win.width * win.height * 3)) };
  }

  /**
   * The window the centre crop takes from an image of the given size (the whole image without cropping).
   * transformers: top = (H - h) // 2, left = (W - w) // 2, floored; negative when it pads.
   */
  cropWindow(height: number, width: number): { top: number; left: number; height: number; width: number } {
    if (!this.config.doCenterCrop) return { top: 0, left: 0, height, width };
    const { height: h, width: w } = this.config.cropSize;
    return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
  }

  /** The centre-cropped uint8 image (H, W, 3), as transformers' `center_crop` returns it (zeros where it pads). */
  centerCropU8(img: { width: number; height: number; data: Uint8Array }): { width: number; height: number; data: Uint8Array } {
    const win = this.cropWindow(img.height, img.width);
    return { width: win.width, height: win.height, data: cropU8(img.data, img.width, img.height, 3, win) };
  }

  /**
   * Preprocesses one image into `out` at `offset` (floats), channels first: 3 × H × W values where
   * H × W is `outputSize`. Returns the number of floats written.
   */
  preprocessInto(img: DecodedImage, out: Float32Array, offset = 0): number {
    const k = resizeCropKernels();
    if (k !== null) {
      const rgb = img.mode === 'RGB' ? img : toRGB(img);
      const { height, width } = this.checkedResizeSize(rgb);
      const win = this.cropWindow(height, width);
      const floats = 3 * win.height * win.width;
      if (offset + floats > out.length) throw new Error(`preprocessInto: output buffer too small (${out.length} < ${offset + floats})`);
      k.resizeCropNormalize(rgb, width, height, win, this.config.resample, this.lut, out, offset);
      return floats;
    }
    const r = this.resize(img);
    // Outside the image (when the crop pads) the uint8 value is 0, rescaled and normalised like any other.
    const { top, left, height: h, width: w } = this.cropWindow(r.height, r.width);
    const plane = h * w;
    if (offset + 3 * plane > out.length) throw new Error(`preprocessInto: output buffer too small (${out.length} < ${offset + 3 * plane})`);
    const lut = this.lut;
    const src = r.data;
    for (let y = 0; y < h; y++) {
      const sy = y + top;
      const rowInside = sy >= 0 && sy < r.height;
      for (let x = 0; x < w; x++) {
        const sx = x + left;
        const o = offset + y * w + x;
        if (rowInside && sx >= 0 && sx < r.width) {
          const s = (sy * r.width + sx) * 3;
          out[o] = lut[src[s]!]!;
          out[o + plane] = lut[256 + src[s + 1]!]!;
          out[o + 2 * plane] = lut[512 + src[s + 2]!]!;
        } else {
          out[o] = lut[0]!;
          out[o + plane] = lut[256]!;
          out[o + 2 * plane] = lut[512]!;
        }
      }
    }
    return 3 * plane;
  }

  /** Preprocesses a batch into one (N, 3, H, W) buffer; `out` is reused when given. Images must share an output size. */
  preprocessBatch(images: readonly DecodedImage[], out?: Float32Array): Float32Array {
    if (images.length === 0) return out ?? new Float32Array(0);
    const first = this.outputSize(images[0]!.height, images[0]!.width);
    const per = 3 * first.height * first.width;
    const buf = out ?? new Float32Array(per * images.length);
    images.forEach((img, i) => {
      const s = this.outputSize(img.height, img.width);
      if (s.height !== first.height || s.width !== first.width) {
        throw new UserError(`image ${i} gives ${s.height}x${s.width} pixel values, image 0 gives ${first.height}x${first.width}: enable do_center_crop to batch images of different sizes`);
      }
      this.preprocessInto(img, buf, i * per);
    });
    return buf;
  }
}

function buildLut(c: CLIPImageProcessorConfig): Float32Array {
  const lut = new Float32Array(256 * 3);
  for (let ch = 0; ch < 3; ch++) {
    const mean = Math.fround(c.imageMean[ch]!);
    const std = Math.fround(c.imageStd[ch]!);
    for (let v = 0; v < 256; v++) {
      // transformers: rescale multiplies in float64 and casts to float32; normalise works in float32.
      let x = c.doRescale ? Math.fround(v * c.rescaleFactor) : v;
      if (c.doNormalize) x = Math.fround(Math.fround(x - mean) / std);
      lut[ch * 256 + v] = x;
    }
  }
  return lut;
}

function parseConfig(json: unknown, source: string): CLIPImageProcessorConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UserError(`${source}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  const bool = (key: string, dflt: boolean): boolean => {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') throw new UserError(`${source}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (key: string, dflt: number): number => {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`${source}: "${key}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const triple = (key: string, dflt: readonly number[]): [number, number, number] => {
    let v = o[key];
    if (v === undefined || v === null) v = dflt;
    if (typeof v === 'number') v = [v, v, v];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new UserError(`${source}: "${key}" must be a number or a list of 3 numbers, got ${JSON.stringify(v)}`);
    }
    return [v[0], v[1], v[2]];
  };
  const posInt = (v: unknown, key: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > MAX_SIDE) {
      throw new UserError(`${source}: "${key}" must be an integer from 1 to ${MAX_SIDE}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  // get_size_dict(size, default_to_square=False): an int is the shortest edge, a pair is (height, width).
  let size: ResizeSize;
  const rawSize = o.size ?? { shortest_edge: 224 };
  if (typeof rawSize === 'number') size = { shortestEdge: posInt(rawSize, 'size') };
  else if (Array.isArray(rawSize) && rawSize.length === 2) size = { height: posInt(rawSize[0], 'size[0]'), width: posInt(rawSize[1], 'size[1]') };
  else if (rawSize && typeof rawSize === 'object' && 'shortest_edge' in rawSize) size = { shortestEdge: posInt((rawSize as Record<string, unknown>).shortest_edge, 'size.shortest_edge') };
  else if (rawSize && typeof rawSize === 'object' && 'height' in rawSize && 'width' in rawSize) {
    const r = rawSize as Record<string, unknown>;
    size = { height: posInt(r.height, 'size.height'), width: posInt(r.width, 'size.width') };
  } else throw new UserError(`${source}: "size" must be an integer, [height, width], {"shortest_edge": n} or {"height": h, "width": w}; got ${JSON.stringify(rawSize)}`);
  if (o.use_square_size === true && 'shortestEdge' in size) size = { height: size.shortestEdge, width: size.shortestEdge };
  // get_size_dict(crop_size, default_to_square=True): an int is a square.
  let cropSize: { height: number; width: number };
  const rawCrop = o.crop_size ?? { height: 224, width: 224 };
  if (typeof rawCrop === 'number') cropSize = { height: posInt(rawCrop, 'crop_size'), width: posInt(rawCrop, 'crop_size') };
  else if (Array.isArray(rawCrop) && rawCrop.length === 2) cropSize = { height: posInt(rawCrop[0], 'crop_size[0]'), width: posInt(rawCrop[1], 'crop_size[1]') };
  else if (rawCrop && typeof rawCrop === 'object' && 'height' in rawCrop && 'width' in rawCrop) {
    const r = rawCrop as Record<string, unknown>;
    cropSize = { height: posInt(r.height, 'crop_size.height'), width: posInt(r.width, 'crop_size.width') };
  } else throw new UserError(`${source}: "crop_size" must be an integer, [height, width] or {"height": h, "width": w}; got ${JSON.stringify(rawCrop)}`);
  for (const [key, a] of [['crop_size', cropSize], ['size', 'height' in size ? size : null]] as const) {
    if (a !== null && a.height * a.width > MAX_IMAGE_PIXELS) {
      throw new UserError(`${source}: "${key}" ${a.height}x${a.width} has more than ${MAX_IMAGE_PIXELS} pixels`);
    }
  }
  const resampleCode = num('resample', 3);
  const resample = filterFromPilCode(resampleCode);
  if (resample === null) throw new UserError(`${source}: "resample": ${resampleCode} is not supported (use 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX or 5 HAMMING)`);
  return {
    doResize: bool('do_resize', true),
    size,
    resample,
    doCenterCrop: bool('do_center_crop', true),
    cropSize,
    doRescale: bool('do_rescale', true),
    rescaleFactor: num('rescale_factor', 1 / 255),
    doNormalize: bool('do_normalize', true),
    imageMean: triple('image_mean', OPENAI_CLIP_MEAN),
    imageStd: triple('image_std', OPENAI_CLIP_STD),
    doConvertRgb: bool('do_convert_rgb', true),
  };
}
