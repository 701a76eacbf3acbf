/**
 * Image decoding (PNG through fast-png, JPEG through ./jpeg, libjpeg-exact) into PIL-like modes, and PIL's
 * `convert("RGB")`. The modes are those Pillow 9.4 opens the same files in, so that the RGB conversion
 * gives PIL's bytes: 1-bit grey is "1", 2/4/8-bit grey "L" (scaled to 0..255), 16-bit grey "I;16"
 * (converted to RGB by clamping at 255, not by scaling), 16-bit colour keeps its high byte, palettes
 * stay "P" until converted.
 */
import { decode as decodePng } from 'fast-png';
import { UserError } from '../errors.js';
import { decodeJpeg } from './jpeg/index.js';
import { checkPngLimits, MAX_IMAGE_PIXELS } from './png-limits.js';

export type ImageMode = '1' | 'L' | 'LA' | 'P' | 'RGB' | 'RGBA' | 'I;16';

export interface DecodedImage {
  width: number;
  height: number;
  /** Samples per pixel in `data`: 1 for 1/L/P, 2 for LA and for I;16 (two bytes), 3 for RGB, 4 for RGBA. */
  channels: number;
  mode: ImageMode;
  /** Row-major pixels. "1" holds 0/255 bytes (as PIL stores it), "I;16" little-endian 16-bit values. */
  data: Uint8Array;
  /** For mode "P": 256 RGB entries; entries the file does not define are PIL's grey ramp (i, i, i). */
  palette?: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg';

export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Decodes PNG or JPEG bytes. `what` names the image in error messages (e.g. "mnist test row 17").
 * Unknown formats and corrupt data are UserErrors.
 */
export function decodeImage(bytes: Uint8Array, what = 'image'): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === null) throw new UserError(`${what}: not a PNG or JPEG image (unrecognised ${bytes.length}-byte header)`);
  try {
    return format === 'png' ? decodePngImage(bytes, what) : decodeJpegImage(bytes, what);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${what}: corrupt ${format.toUpperCase()} data (${(e as Error).message})`, { cause: e });
  }
}

/** `decodeImage` followed by `toRGB`. */
export function decodeImageRGB(bytes: Uint8Array, what = 'image'): DecodedImage {
  return toRGB(decodeImage(bytes, what));
}

export { MAX_IMAGE_PIXELS } from './png-limits.js';

function decodePngImage(bytes: Uint8Array, what: string): DecodedImage {
  checkPngLimits(bytes, what);
  const png = decodePng(bytes, { checkCrc: true });
  const { width, height, depth } = png;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new Error(`bad size ${width}x${height}`);
  const n = width * height;
  if (png.palette) {
    const idx = unpackSamples(png.data, width, height, 1, depth, false);
    const palette = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) palette[i * 3] = palette[i * 3 + 1] = palette[i * 3 + 2] = i;
    png.palette.forEach((c, i) => {
      if (i < 256) palette.set([c[0] ?? 0, c[1] ?? 0, c[2] ?? 0], i * 3);
    });
    return { width, height, channels: 1, mode: 'P', data: idx, palette };
  }
  const ch = png.channels;
  const expected = depth < 8 ? height * Math.ceil((depth * ch * width) / 8) : n * ch;
  if (png.data.length < expected) throw new Error('truncated pixel data');
  if (depth === 16) {
    const src = png.data as Uint16Array;
    if (ch === 1) {
      const out = new Uint8Array(n * 2);
      for (let i = 0; i < n; i++) {
        out[2 * i] = src[i]! & 0xff;
        out[2 * i + 1] = src[i]! >>> 8;
      }
      return { width, height, channels: 2, mode: 'I;16', data: out };
    }
    // Pillow unpacks 16-bit colour (RGB;16B, RGBA;16B, LA;16B) by keeping the most significant byte.
    const out = new Uint8Array(n * ch);
    for (let i = 0; i < out.length; i++) out[i] = src[i]! >>> 8;
    return { width, height, channels: ch, mode: modeFor(ch), data: out };
  }
  if (depth < 8) {
    // Only greyscale has sub-byte depths here (palettes were handled above).
    if (ch !== 1) throw new Error(`bit depth ${depth} with ${ch} channels`);
    const data = unpackSamples(png.data, width, height, 1, depth, true);
    return { width, height, channels: 1, mode: depth === 1 ? '1' : 'L', data };
  }
  const data = png.data instanceof Uint8Array ? png.data : Uint8Array.from(png.data);
  return { width, height, channels: ch, mode: modeFor(ch), data: data.length === n * ch ? data : data.subarray(0, n * ch) };
}

function modeFor(ch: number): ImageMode {
  switch (ch) {
    case 1:
      return 'L';
    case 2:
      return 'LA';
    case 3:
      return 'RGB';
    case 4:
      return 'RGBA';
    default:
      throw new Error(`${ch} channels`);
  }
}

/** Unpacks rows of 1/2/4/8-bit samples (rows padded to whole bytes); `scale` maps them onto 0..255 as PIL's L;2/L;4/1 unpackers do. */
function unpackSamples(data: Uint8Array | Uint8ClampedArray | Uint16Array, width: number, height: number, ch: number, depth: number, scale: boolean): Uint8Array {
  const perRow = width * ch;
  const out = new Uint8Array(perRow * height);
  if (depth === 8) {
    if (data.length < out.length) throw new Error('truncated pixel data');
    out.set(data.subarray(0, out.length));
    return out;
  }
  const rowBytes = Math.ceil((perRow * depth) / 8);
  if (data.length < rowBytes * height) throw new Error('truncated pixel data');
  const mask = (1 << depth) - 1;
  const factor = scale ? 255 / mask : 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)]!;
      const v = (byte >> (8 - depth - (bit & 7))) & mask;
      out[y * perRow + x] = v * factor;
    }
  }
  return out;
}

function decodeJpegImage(bytes: Uint8Array, what: string): DecodedImage {
  // Greyscale stays "L" as in Pillow; CMYK comes back already converted as Pillow's convert("RGB").
  const img = decodeJpeg(bytes, { maxPixels: MAX_IMAGE_PIXELS, what });
  return { width: img.width, height: img.height, channels: img.channels, mode: img.channels === 1 ? 'L' : 'RGB', data: img.data };
}

/** PIL's `image.convert("RGB")`: alpha is dropped (not composited), palettes looked up, I;16 clamped at 255. */
export function toRGB(img: DecodedImage): DecodedImage {
  const { width, height, data } = img;
  const n = width * height;
  if (img.mode === 'RGB') return img;
  const out = new Uint8Array(n * 3);
  switch (img.mode) {
    case '1':
    case 'L':
      for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[i]!;
      break;
    case 'LA':
      for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[2 * i]!;
      break;
    case 'RGBA':
      for (let i = 0; i < n; i++) {
        out[3 * i] = data[4 * i]!;
        out[3 * i + 1] = data[4 * i + 1]!;
        out[3 * i + 2] = data[4 * i + 2]!;
      }
      break;
    case 'P': {
      const pal = img.palette;
      if (!pal) throw new Error('toRGB: mode P without a palette');
      for (let i = 0; i < n; i++) {
        const k = data[i]! * 3;
        out[3 * i] = pal[k]!;
        out[3 * i + 1] = pal[k + 1]!;
        out[3 * i + 2] = pal[k + 2]!;
      }
      break;
    }
    case 'I;16':
      for (let i = 0; i < n; i++) {
        const v = data[2 * i]! | (data[2 * i + 1]! << 8);
        out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = v > 255 ? 255 : v;
      }
      break;
  }
  return { width, height, channels: 3, mode: 'RGB', data: out };
}
