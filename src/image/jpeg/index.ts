/**
 * A JPEG decoder that gives Pillow 9.4's bytes: the decoding libjpeg-turbo 2.1 does with Pillow's
 * settings (islow IDCT as its x86-64 SIMD code computes it, fancy upsampling, block smoothing of
 * incomplete progressive data, libjpeg's colour-space guess from JFIF/Adobe markers and component ids,
 * its recovery from damaged data), then Pillow's own steps for four-channel files. Baseline, extended
 * and progressive Huffman files with 1, 3 or 4 components and 8-bit samples (what Pillow opens);
 * arithmetic-coded files (which Pillow's libjpeg-turbo decodes, but no dataset uses), lossless and
 * hierarchical ones are refused.
 */
import { UserError } from '../../errors.js';
import { convertColor, type JpegColorSpace } from './color.js';
import { buildHuffmanTable, type HuffmanTable } from './huffman.js';
import { idctIslow } from './idct.js';
import { decodeScan, nextMarker, type Component, type Frame, type Scan } from './scan.js';
import { idctSmoothed, newProgression, recordScan, smoothingLatch } from './smoothing.js';
import { isReservedMarker, trailingMarker } from './trailing.js';
import { STD_AC, STD_DC } from './std-tables.js';
import { upsample, type Plane } from './upsample.js';
import { placeCoefficients, renderWasm, type WasmLayout } from './render-wasm.js';
import { u8Wasm, type U8Wasm } from '../u8-wasm.js';

/** A DHT table as defined; libjpeg checks and builds it only when a scan uses it (jpeg_make_d_derived_tbl). */
interface DefinedTable {
  counts: Uint8Array;
  values: Uint8Array;
}

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
  /**
   * The reference the fast paths are tested against: JavaScript kernels only, and libjpeg's reading
   * ahead replayed for every scan (see BitReader's `track`).
   */
  jsOnly?: boolean;
}

/**
 * A complete file spends at least one bit on every block (each needs a DC code in its first scan),
 * so more blocks than 8 per byte of scan data means the data is mostly missing. libjpeg would fill
 * the rest with grey after decoding the whole declared size (a 611-byte file declaring 16384×4096
 * pixels); refusing it keeps time and memory proportional to the file.
 */
const MAX_BLOCKS_PER_BYTE = 8;
/** Up to this many blocks (4 megapixels in one component) such files are decoded as libjpeg does (grey fill): the cost stays small. */
const MIN_GUARDED_BLOCKS = 1 << 16;

export function decodeJpeg(bytes: Uint8Array, opts: JpegOptions): DecodedJpeg {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('no SOI marker');
  const qt: (Int32Array | undefined)[] = [];
  const dcTables: (DefinedTable | undefined)[] = [];
  const acTables: (DefinedTable | undefined)[] = [];
  let frame: Frame | null = null;
  let restartInterval = 0;
  let jfif = false;
  let adobeTransform = -1;
  let scans = 0;
  // libjpeg's has_multiple_scans: a progressive file, or a first scan without every component. Then
  // jpeg_start_decompress reads the whole file to EOI before any output, and a file that ends first is
  // Pillow's "image file is truncated"; otherwise the image is done after its one scan (see trailing.ts).
  let multipleScans = true;
  let singleScanDone = false;
  // the WebAssembly kernels and where the coefficients were placed for them (null: JavaScript only)
  let wasm: { w: U8Wasm; at: WasmLayout } | null = null;
  let p = 2;
  const n = bytes.length;
  for (;;) {
    p = nextMarker(bytes, p);
    if (singleScanDone) {
      const next = p >= n ? 'end' : trailingMarker(bytes, p);
      if (next === 'end') break;
      p = next;
      continue;
    }
    if (p >= n) throw new Error('image file is truncated (no EOI marker)');
    const marker = bytes[p + 1]!;
    p += 2;
    if (marker === 0xd9) break;
    if (marker >= 0xd0 && marker <= 0xd7) continue;
    if (marker === 0x01 && scans > 0) continue;
    if (marker === 0xd8) throw new Error('duplicate SOI marker');
    // Pillow's own parser, which reads up to the first SOS, knows no TEM either
    if (isReservedMarker(marker) || marker === 0x01) throw new Error(`unsupported marker 0xFF${hex(marker)}`);
    if (p + 2 > n || p + ((bytes[p]! << 8) | bytes[p + 1]!) > n) throw new Error(`image file is truncated (marker segment 0xFF${hex(marker)} runs past the end)`);
    const length = (bytes[p]! << 8) | bytes[p + 1]!;
    if (length < 2) throw new Error(`bad length of marker segment 0xFF${hex(marker)}`);
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
        if (seg.length !== 2) throw new Error('bad DRI marker length');
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
        if (scans === 0) wasm = startDecompress(frame, n - p, dcTables, acTables, opts);
        const scan = readScanHeader(seg, frame, qt, dcTables, acTables, restartInterval);
        if (scans === 0) multipleScans = frame.progressive || scan.components.length < frame.components.length;
        const done = decodeScan(bytes, p, frame, scan, opts.jsOnly === true);
        p = done.end;
        scans++;
        // libjpeg suspends when its reading ahead meets the end of the file: Pillow's "truncated"
        if (done.ranOut) throw new Error('image file is truncated (the file ends inside the image data)');
        if (!multipleScans) singleScanDone = true;
        break;
      }
      default:
        break; // APPn, COM, DNL carry nothing the pixels depend on
    }
  }
  if (!frame || scans === 0) throw new Error('no image data (no SOF or SOS marker)');
  return render(frame, colorSpace(frame, jfif, adobeTransform), wasm);
}

const hex = (m: number): string => m.toString(16).toUpperCase();

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
  if (seg.length !== 6 + 3 * nc) throw new Error('bad SOF marker length');
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
  return { progressive, progression: progressive ? newProgression(nc) : null, width, height, hmax, vmax, mcusX, mcusY, components };
}

/**
 * Checks the declared size against the data that follows, then allocates the coefficients: in the
 * WebAssembly kernels' memory where they are available (returned), else as arrays.
 */
function startDecompress(frame: Frame, dataBytes: number, dc: (DefinedTable | undefined)[], ac: (DefinedTable | undefined)[], opts: JpegOptions): { w: U8Wasm; at: WasmLayout } | null {
  let blocks = 0;
  for (const c of frame.components) blocks += c.blocksWide * c.blocksHigh;
  if (blocks > MIN_GUARDED_BLOCKS && blocks > MAX_BLOCKS_PER_BYTE * dataBytes) {
    throw new UserError(
      `${opts.what}: JPEG declares ${frame.width}x${frame.height} pixels (${blocks} blocks) but holds only ${dataBytes} bytes of image data: truncated or not a real image`,
    );
  }
  const w = opts.jsOnly ? null : u8Wasm();
  const placed = w && { w, at: placeCoefficients(frame, w) };
  if (!placed) for (const c of frame.components) c.coefs = new Int16Array(c.stride * c.rows * 64);
  if (!frame.progressive) {
    // jdhuff.c: the standard tables stand in for missing ones (Motion-JPEG)
    for (let i = 0; i < 2; i++) {
      dc[i] ??= { counts: Uint8Array.from(STD_DC[i]![0]), values: Uint8Array.from(STD_DC[i]![1]) };
      ac[i] ??= { counts: Uint8Array.from(STD_AC[i]![0]), values: Uint8Array.from(STD_AC[i]![1]) };
    }
  }
  return placed;
}

function readHuffmanTables(seg: Uint8Array, dc: (DefinedTable | undefined)[], ac: (DefinedTable | undefined)[]): void {
  let p = 0;
  while (seg.length - p > 16) {
    const tc = seg[p]! >> 4;
    const th = seg[p]! & 15;
    if (tc > 1 || th > 3) throw new Error('bad DHT marker');
    const counts = seg.subarray(p + 1, p + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i]!;
    if (total > 256 || p + 17 + total > seg.length) throw new Error('bad DHT marker');
    const values = seg.subarray(p + 17, p + 17 + total);
    (tc === 0 ? dc : ac)[th] = { counts: counts.slice(), values: values.slice() };
    p += 17 + total;
  }
  if (p !== seg.length) throw new Error('bad DHT marker length');
}

function readQuantTables(seg: Uint8Array, qt: (Int32Array | undefined)[]): void {
  let p = 0;
  while (p < seg.length) {
    const pq = seg[p]! >> 4;
    const tq = seg[p]! & 15;
    if (tq > 3) throw new Error(`bad DQT index ${tq}`);
    const size = pq === 0 ? 64 : 128; // libjpeg reads 16-bit values for any non-zero precision
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

function readScanHeader(seg: Uint8Array, frame: Frame, qt: (Int32Array | undefined)[], dc: (DefinedTable | undefined)[], ac: (DefinedTable | undefined)[], restartInterval: number): Scan {
  const ns = seg[0] ?? 0;
  if (ns < 1 || ns > 4 || seg.length !== 4 + 2 * ns) throw new Error('bad SOS marker length');
  const components: Component[] = [];
  const dcs: (DefinedTable | undefined)[] = [];
  const acs: (DefinedTable | undefined)[] = [];
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
    const prog = frame.progression!;
    prog.scans++;
    recordScan(prog, components.map((c) => frame.components.indexOf(c)), ss, se, al);
  }
  const needDC = !frame.progressive || (ss === 0 && ah === 0);
  const needAC = !frame.progressive || ss !== 0;
  const built = (t: DefinedTable | undefined, isDC: boolean): HuffmanTable => {
    if (!t) throw new Error('scan uses an undefined Huffman table');
    return buildHuffmanTable(t.counts, t.values, isDC);
  };
  const dcBuilt = dcs.map((t) => (needDC ? built(t, true) : undefined));
  const acBuilt = acs.map((t) => (needAC ? built(t, false) : undefined));
  for (let i = 0; i < ns; i++) {
    const c = components[i]!;
    if (!c.quant) {
      const t = qt[c.tq];
      if (!t) throw new Error(`quantisation table ${c.tq} is not defined`);
      c.quant = t.slice();
    }
  }
  return { components, dc: dcBuilt, ac: acBuilt, ss, se, ah, al, restartInterval };
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

function render(frame: Frame, space: JpegColorSpace, wasm: { w: U8Wasm; at: WasmLayout } | null): DecodedJpeg {
  const smoothing = frame.progression ? smoothingLatch(frame, frame.progression) : null;
  const channels = space === 'gray' ? 1 : 3;
  if (wasm && !smoothing) return { width: frame.width, height: frame.height, channels, data: renderWasm(frame, space, wasm.w, wasm.at) };
  return { width: frame.width, height: frame.height, channels, data: renderJs(frame, space, smoothing) };
}

/** The reference: IDCT (smoothed where libjpeg smooths), upsampling and colour conversion in JavaScript. */
function renderJs(frame: Frame, space: JpegColorSpace, smoothing: ReturnType<typeof smoothingLatch>): Uint8Array {
  const ws = new Int32Array(64);
  const zeroQuant = new Int32Array(64);
  const planes: Plane[] = [];
  for (const [ci, c] of frame.components.entries()) {
    const stride = c.stride * 8;
    const data = new Uint8Array(stride * c.blocksHigh * 8);
    const q = c.quant ?? zeroQuant; // a component no scan carried is mid-grey, as libjpeg leaves it
    if (smoothing) idctSmoothed(frame, c, ci, smoothing, frame.progression!.lastGoodRow, data, stride);
    else {
      for (let by = 0; by < c.blocksHigh; by++) {
        for (let bx = 0; bx < c.blocksWide; bx++) idctIslow(c.coefs, (by * c.stride + bx) * 64, q, data, by * 8 * stride + bx * 8, stride, ws);
      }
    }
    c.coefs = new Int16Array(0);
    planes.push(upsample({ data, stride }, c.width, c.height, frame.hmax / c.h, frame.vmax / c.v, frame.height));
  }
  return convertColor(space, planes, frame.width, frame.height);
}
