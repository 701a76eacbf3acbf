/**
 * A JPEG decoder that gives Pillow 9.4's bytes: the decoding libjpeg-turbo does with Pillow's settings
 * (islow IDCT, fancy upsampling, libjpeg's colour-space guess from JFIF/Adobe markers and component
 * ids), then Pillow's own steps for four-channel files. Baseline, extended and progressive Huffman
 * files with 1, 3 or 4 components and 8-bit samples (what Pillow opens); arithmetic-coded,
 * lossless and hierarchical files are refused, as Pillow's libjpeg build does for most of them.
 */
import { UserError } from '../../errors.js';
import { convertColor, type JpegColorSpace } from './color.js';
import { buildHuffmanTable, type HuffmanTable } from './huffman.js';
import { idctIslow } from './idct.js';
import { decodeScan, nextMarker, type Component, type Frame, type Scan } from './scan.js';
import { STD_AC, STD_DC } from './std-tables.js';
import { upsample, type Plane } from './upsample.js';

export interface DecodedJpeg {
  width: number;
  height: number;
  /** 1 for greyscale ("L"), else 3 (RGB; CMYK files are converted as Pillow's convert("RGB")). */
  channels: 1 | 3;
  data: Uint8Array;
}

export interface JpegOptions {
  /** Refuse images with more pixels than this before allocating anything (PIL's decompression-bomb rule). */
  maxPixels: number;
  /** Names the image in errors. */
  what: string;
}

/**
 * A complete file spends at least one bit on every block (each needs a DC code in its first scan),
 * so more blocks than 8 per byte of scan data means the data is mostly missing. libjpeg would fill
 * the rest with grey after decoding the whole declared size (a 611-byte file declaring 16384×4096
 * pixels); refusing it keeps time and memory proportional to the file.
 */
const MAX_BLOCKS_PER_BYTE = 8;

export function decodeJpeg(bytes: Uint8Array, opts: JpegOptions): DecodedJpeg {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('no SOI marker');
  const qt: (Int32Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let frame: Frame | null = null;
  let restartInterval = 0;
  let jfif = false;
  let adobeTransform = -1;
  let scans = 0;
  let sawEOI = false;
  let p = 2;
  const n = bytes.length;
  for (;;) {
    p = nextMarker(bytes, p);
    if (p >= n) break;
    const marker = bytes[p + 1]!;
    p += 2;
    if (marker === 0xd9) {
      sawEOI = true;
      break;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (marker === 0xd8) throw new Error('duplicate SOI marker');
    if (p + 2 > n) throw new Error('truncated marker segment');
    const length = (bytes[p]! << 8) | bytes[p + 1]!;
    if (length < 2 || p + length > n) throw new Error(`truncated marker segment 0xFF${marker.toString(16).toUpperCase()}`);
    const seg = bytes.subarray(p + 2, p + length);
    p += length;
    switch (marker) {
      case 0xc0:
      case 0xc1:
      case 0xc2:
        if (frame) throw new Error('more than one SOF marker');
        frame = readFrame(seg, marker === 0xc2, opts);
        break;
      case 0xc3:
      case 0xc5:
      case 0xc6:
      case 0xc7:
      case 0xcb:
      case 0xcd:
      case 0xce:
      case 0xcf:
        throw new UserError(`${opts.what}: lossless or hierarchical JPEG (SOF${marker - 0xc0}) is not supported`);
      case 0xc9:
      case 0xca:
        throw new UserError(`${opts.what}: arithmetic-coded JPEG is not supported`);
      case 0xc4:
        readHuffmanTables(seg, dcTables, acTables);
        break;
      case 0xdb:
        readQuantTables(seg, qt);
        break;
      case 0xdd:
        if (seg.length < 2) throw new Error('bad DRI marker');
        restartInterval = (seg[0]! << 8) | seg[1]!;
        break;
      case 0xe0:
        if (seg.length >= 14 && seg[0] === 0x4a && seg[1] === 0x46 && seg[2] === 0x49 && seg[3] === 0x46 && seg[4] === 0) jfif = true;
        break;
      case 0xee:
        if (seg.length >= 12 && seg[0] === 0x41 && seg[1] === 0x64 && seg[2] === 0x6f && seg[3] === 0x62 && seg[4] === 0x65) adobeTransform = seg[11]!;
        break;
      case 0xda: {
        if (!frame) throw new Error('SOS before SOF');
        if (scans === 0) startDecompress(frame, n - p, dcTables, acTables, opts);
        const scan = readScanHeader(seg, frame, qt, dcTables, acTables, restartInterval);
        p = decodeScan(bytes, p, frame, scan);
        scans++;
        break;
      }
      default:
        break; // APPn, COM, DNL and the rest carry nothing the pixels depend on
    }
  }
  if (!frame || scans === 0) throw new Error('no image data (no SOF or SOS marker)');
  // Pillow feeds libjpeg until EOI and raises "image file is truncated" when the file ends first (an EOI
  // after missing data is only a warning, and libjpeg's grey fill is the image)
  if (!sawEOI) throw new Error('image file is truncated (no EOI marker)');
  return render(frame, colorSpace(frame, jfif, adobeTransform));
}

function readFrame(seg: Uint8Array, progressive: boolean, opts: JpegOptions): Frame {
  if (seg.length < 6) throw new Error('bad SOF marker');
  const precision = seg[0]!;
  const height = (seg[1]! << 8) | seg[2]!;
  const width = (seg[3]! << 8) | seg[4]!;
  const nc = seg[5]!;
  // Pillow's JpegImagePlugin refuses other precisions and channel counts
  if (precision !== 8) throw new UserError(`${opts.what}: ${precision}-bit JPEG samples are not supported (Pillow reads 8-bit only)`);
  if (nc !== 1 && nc !== 3 && nc !== 4) throw new UserError(`${opts.what}: JPEG with ${nc} components is not supported (Pillow reads 1, 3 or 4)`);
  if (width === 0 || height === 0) throw new Error(`empty image (${width}x${height})`);
  if (width * height > opts.maxPixels) {
    throw new UserError(`${opts.what}: image size ${width}x${height} (${width * height} pixels) exceeds the limit of ${opts.maxPixels} pixels, could be a decompression bomb (as PIL refuses it)`);
  }
  if (seg.length < 6 + 3 * nc) throw new Error('bad SOF marker');
  const components: Component[] = [];
  let hmax = 1;
  let vmax = 1;
  for (let i = 0; i < nc; i++) {
    const id = seg[6 + 3 * i]!;
    const h = seg[7 + 3 * i]! >> 4;
    const v = seg[7 + 3 * i]! & 15;
    const tq = seg[8 + 3 * i]!;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw new Error(`bad sampling factors ${h}x${v}`);
    if (tq > 3) throw new Error(`bad quantisation table ${tq}`);
    hmax = Math.max(hmax, h);
    vmax = Math.max(vmax, v);
    components.push({ id, h, v, tq, width: 0, height: 0, blocksWide: 0, blocksHigh: 0, stride: 0, rows: 0, coefs: new Int16Array(0), quant: null });
  }
  const mcusX = Math.ceil(width / (8 * hmax));
  const mcusY = Math.ceil(height / (8 * vmax));
  for (const c of components) {
    if (hmax % c.h !== 0 || vmax % c.v !== 0) throw new UserError(`${opts.what}: JPEG with fractional sampling ratios is not supported (libjpeg refuses it)`);
    c.width = Math.ceil((width * c.h) / hmax);
    c.height = Math.ceil((height * c.v) / vmax);
    c.blocksWide = Math.ceil(c.width / 8);
    c.blocksHigh = Math.ceil(c.height / 8);
    c.stride = mcusX * c.h;
    c.rows = mcusY * c.v;
  }
  return { progressive, width, height, hmax, vmax, mcusX, mcusY, components };
}

/** Checks the declared size against the data that follows, then allocates the coefficients. */
function startDecompress(frame: Frame, dataBytes: number, dc: (HuffmanTable | undefined)[], ac: (HuffmanTable | undefined)[], opts: JpegOptions): void {
  let blocks = 0;
  for (const c of frame.components) blocks += c.blocksWide * c.blocksHigh;
  if (blocks > MAX_BLOCKS_PER_BYTE * Math.max(dataBytes, 1)) {
    throw new UserError(
      `${opts.what}: JPEG declares ${frame.width}x${frame.height} pixels (${blocks} blocks) but holds only ${dataBytes} bytes of image data: truncated or not a real image`,
    );
  }
  for (const c of frame.components) c.coefs = new Int16Array(c.stride * c.rows * 64);
  if (!frame.progressive) {
    // jdhuff.c: the standard tables stand in for missing ones (Motion-JPEG)
    for (let i = 0; i < 2; i++) {
      dc[i] ??= buildHuffmanTable(Uint8Array.from(STD_DC[i]![0]), Uint8Array.from(STD_DC[i]![1]), true);
      ac[i] ??= buildHuffmanTable(Uint8Array.from(STD_AC[i]![0]), Uint8Array.from(STD_AC[i]![1]), false);
    }
  }
}

function readHuffmanTables(seg: Uint8Array, dc: (HuffmanTable | undefined)[], ac: (HuffmanTable | undefined)[]): void {
  let p = 0;
  while (p < seg.length) {
    if (p + 17 > seg.length) throw new Error('bad DHT marker');
    const tc = seg[p]! >> 4;
    const th = seg[p]! & 15;
    if (tc > 1 || th > 3) throw new Error('bad DHT marker');
    const counts = seg.subarray(p + 1, p + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i]!;
    if (total > 256 || p + 17 + total > seg.length) throw new Error('bad DHT marker');
    const values = seg.subarray(p + 17, p + 17 + total);
    (tc === 0 ? dc : ac)[th] = buildHuffmanTable(counts, values, tc === 0);
    p += 17 + total;
  }
}

function readQuantTables(seg: Uint8Array, qt: (Int32Array | undefined)[]): void {
  let p = 0;
  while (p < seg.length) {
    const pq = seg[p]! >> 4;
    const tq = seg[p]! & 15;
    if (tq > 3 || pq > 1) throw new Error('bad DQT marker');
    const size = pq === 0 ? 64 : 128;
    if (p + 1 + size > seg.length) throw new Error('bad DQT marker');
    const t = new Int32Array(64);
    // stored in zigzag order; libjpeg keeps them in natural order
    for (let k = 0; k < 64; k++) {
      const v = pq === 0 ? seg[p + 1 + k]! : (seg[p + 1 + 2 * k]! << 8) | seg[p + 2 + 2 * k]!;
      t[ZIGZAG_TO_NATURAL[k]!] = v;
    }
    qt[tq] = t;
    p += 1 + size;
  }
}

const ZIGZAG_TO_NATURAL = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
  60, 61, 54, 47, 55, 62, 63,
];

function readScanHeader(seg: Uint8Array, frame: Frame, qt: (Int32Array | undefined)[], dc: (HuffmanTable | undefined)[], ac: (HuffmanTable | undefined)[], restartInterval: number): Scan {
  const ns = seg[0] ?? 0;
  if (ns < 1 || ns > 4 || seg.length < 4 + 2 * ns) throw new Error('bad SOS marker');
  const components: Component[] = [];
  const dcs: (HuffmanTable | undefined)[] = [];
  const acs: (HuffmanTable | undefined)[] = [];
  let blocksInMcu = 0;
  for (let i = 0; i < ns; i++) {
    const id = seg[1 + 2 * i]!;
    const c = frame.components.find((x) => x.id === id);
    if (!c || components.includes(c)) throw new Error(`bad component id ${id} in SOS marker`);
    components.push(c);
    dcs.push(dc[seg[2 + 2 * i]! >> 4]);
    acs.push(ac[seg[2 + 2 * i]! & 15]);
    blocksInMcu += ns === 1 ? 1 : c.h * c.v;
  }
  if (blocksInMcu > 10) throw new Error('too many blocks in an MCU');
  const q = 1 + 2 * ns;
  const ss = seg[q]!;
  const se = seg[q + 1]!;
  const ah = seg[q + 2]! >> 4;
  const al = seg[q + 2]! & 15;
  if (frame.progressive) {
    // jdphuff.c start_pass_phuff_decoder
    const bad = (ss === 0 ? se !== 0 : ss > se || se > 63 || ns !== 1) || (ah !== 0 && al !== ah - 1) || al > 13;
    if (bad) throw new Error(`bad progression parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al}`);
  }
  const needDC = !frame.progressive || (ss === 0 && ah === 0);
  const needAC = !frame.progressive || ss !== 0;
  for (let i = 0; i < ns; i++) {
    if ((needDC && !dcs[i]) || (needAC && !acs[i])) throw new Error('scan uses an undefined Huffman table');
    const c = components[i]!;
    if (!c.quant) {
      const t = qt[c.tq];
      if (!t) throw new Error(`quantisation table ${c.tq} is not defined`);
      c.quant = t.slice();
    }
  }
  return { components, dc: dcs, ac: acs, ss, se, ah, al, restartInterval };
}

/** jdapimin.c default_decompress_parms: what the samples are, from the markers and component ids. */
function colorSpace(frame: Frame, jfif: boolean, adobeTransform: number): JpegColorSpace {
  const cs = frame.components;
  if (cs.length === 1) return 'gray';
  if (cs.length === 3) {
    if (jfif) return 'ycbcr';
    if (adobeTransform >= 0) return adobeTransform === 0 ? 'rgb' : 'ycbcr';
    if (cs[0]!.id === 82 && cs[1]!.id === 71 && cs[2]!.id === 66) return 'rgb';
    return 'ycbcr';
  }
  if (adobeTransform >= 0) return adobeTransform === 0 ? 'cmyk' : 'ycck';
  return 'cmyk';
}

function render(frame: Frame, space: JpegColorSpace): DecodedJpeg {
  const ws = new Int32Array(64);
  const zeroQuant = new Int32Array(64);
  const planes: Plane[] = [];
  for (const c of frame.components) {
    const stride = c.stride * 8;
    const data = new Uint8Array(stride * c.blocksHigh * 8);
    const q = c.quant ?? zeroQuant; // a component no scan carried is mid-grey, as libjpeg leaves it
    for (let by = 0; by < c.blocksHigh; by++) {
      for (let bx = 0; bx < c.blocksWide; bx++) idctIslow(c.coefs, (by * c.stride + bx) * 64, q, data, by * 8 * stride + bx * 8, stride, ws);
    }
    c.coefs = new Int16Array(0);
    planes.push(upsample({ data, stride }, c.width, c.height, frame.hmax / c.h, frame.vmax / c.v, frame.height));
  }
  const data = convertColor(space, planes, frame.width, frame.height);
  return { width: frame.width, height: frame.height, channels: space === 'gray' ? 1 : 3, data };
}
