import { encode } from 'fast-png';
import type { PlotLayout } from './line-plot.js';

/**
 * The plot rasterized into an RGBA buffer and encoded with fast-png: anti-aliased lines (coverage from
 * the distance to each segment), markers, and text in a built-in 5×7 bitmap font (upper case, digits
 * and a few signs), so no font or canvas dependency is needed.
 */

/** Rows of 5 bits, top to bottom. */
const FONT: Record<string, number[]> = {
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  '.': [0, 0, 0, 0, 0, 0x0c, 0x0c], '-': [0, 0, 0, 0x1f, 0, 0, 0], _: [0, 0, 0, 0, 0, 0, 0x1f],
  '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0], '=': [0, 0, 0x1f, 0, 0x1f, 0, 0],
  '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02], ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
  ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0], ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08], '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  ' ': [0, 0, 0, 0, 0, 0, 0],
};
const UNKNOWN = [0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f];

type RGB = [number, number, number];

class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 4).fill(255);
  }

  /** Blends `rgb` over the pixel with coverage `a` in [0, 1]. */
  blend(x: number, y: number, rgb: RGB, a: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || a <= 0) return;
    const i = (y * this.width + x) * 4;
    const k = Math.min(1, a);
    for (let c = 0; c < 3; c++) this.data[i + c] = Math.round(this.data[i + c] * (1 - k) + rgb[c] * k);
  }

  /** A segment of the given width, anti-aliased by the distance from each pixel centre to the segment. */
  line(x0: number, y0: number, x1: number, y1: number, rgb: RGB, width: number): void {
    const r = width / 2;
    const minX = Math.floor(Math.min(x0, x1) - r - 1);
    const maxX = Math.ceil(Math.max(x0, x1) + r + 1);
    const minY = Math.floor(Math.min(y0, y1) - r - 1);
    const maxY = Math.ceil(Math.max(y0, y1) + r + 1);
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2));
        const d = Math.hypot(px - (x0 + t * dx), py - (y0 + t * dy));
        this.blend(x, y, rgb, r + 0.5 - d);
      }
    }
  }

  disk(cx: number, cy: number, radius: number, rgb: RGB): void {
    this.line(cx, cy, cx, cy, rgb, radius * 2);
  }

  /** Text in the bitmap font; `anchor` places x at the start, middle or end of the text. */
  text(s: string, x: number, y: number, rgb: RGB, opts: { scale?: number; anchor?: 'start' | 'middle' | 'end' } = {}): void {
    const scale = opts.scale ?? 1;
    const chars = [...s.toUpperCase()];
    const w = chars.length * 6 * scale - scale;
    let left = Math.round(opts.anchor === 'middle' ? x - w / 2 : opts.anchor === 'end' ? x - w : x);
    const top = Math.round(y - 7 * scale);
    for (const ch of chars) {
      const g = FONT[ch] ?? UNKNOWN;
      for (let row = 0; row < 7; row++) {
        for (let col = 0; col < 5; col++) {
          if (((g[row] >> (4 - col)) & 1) === 0) continue;
          for (let sy = 0; sy < scale; sy++) for (let sx = 0; sx < scale; sx++) this.blend(left + col * scale + sx, top + row * scale + sy, rgb, 1);
        }
      }
      left += 6 * scale;
    }
  }
}

const BLACK: RGB = [0, 0, 0];

/** A circle outline of 2 px, as 32 short segments. */
function ring(c: Canvas, cx: number, cy: number, r: number, rgb: RGB): void {
  const n = 32;
  for (let i = 0; i < n; i++) {
    const a0 = (2 * Math.PI * i) / n;
    const a1 = (2 * Math.PI * (i + 1)) / n;
    c.line(cx + r * Math.cos(a0), cy + r * Math.sin(a0), cx + r * Math.cos(a1), cy + r * Math.sin(a1), rgb, 2);
  }
}
const GRID: RGB = [224, 224, 224];

export function plotPng(p: PlotLayout): Uint8Array {
  const c = new Canvas(p.width, p.height);
  const { left, top, right, bottom } = p.area;
  for (const t of p.yTicks) c.line(left, t.px, right, t.px, GRID, 1);
  for (const t of p.xTicks) c.line(t.px, top, t.px, bottom, GRID, 1);
  c.line(left, bottom, right, bottom, BLACK, 1);
  c.line(left, top, left, bottom, BLACK, 1);
  for (const t of p.xTicks) {
    c.line(t.px, bottom, t.px, bottom + 5, BLACK, 1);
    c.text(t.label, t.px, bottom + 18, BLACK, { anchor: 'middle' });
  }
  for (const t of p.yTicks) {
    c.line(left - 5, t.px, left, t.px, BLACK, 1);
    c.text(t.label, left - 8, t.px + 4, BLACK, { anchor: 'end' });
  }
  c.text(p.title, (left + right) / 2, top - 14, BLACK, { scale: 2, anchor: 'middle' });
  c.text(p.xLabel, (left + right) / 2, bottom + 40, BLACK, { anchor: 'middle' });
  c.text(p.yLabel, left, top - 4, BLACK, { anchor: 'middle' });
  if (p.marker) {
    for (let y = top; y < bottom; y += 7) c.line(p.marker.px, y, p.marker.px, Math.min(y + 4, bottom), [136, 136, 136], 1);
    c.text(p.marker.label, p.marker.px + 4, top + 12, [85, 85, 85]);
  }
  for (const s of p.series) {
    for (let i = 1; i < s.pixels.length; i++) c.line(s.pixels[i - 1][0], s.pixels[i - 1][1], s.pixels[i][0], s.pixels[i][1], s.rgb, s.width);
    for (const [x, y] of s.pixels) c.disk(x, y, s.width + 1, s.rgb);
  }
  if (p.marker && p.marker.py !== null) ring(c, p.marker.px, p.marker.py, 7, [214, 39, 40]);
  p.series.forEach((s, i) => {
    const y = p.legend.y + i * p.legend.lineHeight;
    c.line(p.legend.x, y, p.legend.x + 22, y, s.rgb, s.width);
    c.text(s.label, p.legend.x + 28, y + 4, BLACK);
  });
  return encode({ width: p.width, height: p.height, data: c.data, channels: 4, depth: 8 });
}
