import type { PlotLayout } from './line-plot.js';

/** The best point's ring (matplotlib's tab:red). */
const BEST = '#d62728';

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** The plot as a standalone SVG document: grid, axes with ticks and labels, one polyline per series, legend. */
export function plotSvg(p: PlotLayout): string {
  const { left, top, right, bottom } = p.area;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${p.width}" height="${p.height}" viewBox="0 0 ${p.width} ${p.height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect x="0" y="0" width="${p.width}" height="${p.height}" fill="#ffffff"/>`);
  out.push(`<text x="${(left + right) / 2}" y="${top - 16}" text-anchor="middle" font-size="15">${esc(p.title)}</text>`);
  out.push(`<g class="grid" stroke="#e0e0e0" stroke-width="1">`);
  for (const t of p.yTicks) out.push(`<line x1="${left}" y1="${t.px}" x2="${right}" y2="${t.px}"/>`);
  for (const t of p.xTicks) out.push(`<line x1="${t.px}" y1="${top}" x2="${t.px}" y2="${bottom}"/>`);
  out.push(`</g>`);
  out.push(`<g class="axes" stroke="#000000" stroke-width="1">`);
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/>`);
  for (const t of p.xTicks) out.push(`<line x1="${t.px}" y1="${bottom}" x2="${t.px}" y2="${bottom + 5}"/>`);
  for (const t of p.yTicks) out.push(`<line x1="${left - 5}" y1="${t.px}" x2="${left}" y2="${t.px}"/>`);
  out.push(`</g>`);
  out.push(`<g class="tick-labels">`);
  for (const t of p.xTicks) out.push(`<text x="${t.px}" y="${bottom + 19}" text-anchor="middle">${esc(t.label)}</text>`);
  for (const t of p.yTicks) out.push(`<text x="${left - 8}" y="${t.px + 4}" text-anchor="end">${esc(t.label)}</text>`);
  out.push(`</g>`);
  out.push(`<text class="x-label" x="${(left + right) / 2}" y="${bottom + 42}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(`<text class="y-label" x="${16}" y="${(top + bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(top + bottom) / 2})">${esc(p.yLabel)}</text>`);
  if (p.marker) {
    out.push(`<line class="marker" x1="${p.marker.px}" y1="${top}" x2="${p.marker.px}" y2="${bottom}" stroke="#888888" stroke-width="1" stroke-dasharray="4 3"/>`);
    out.push(`<text class="marker-label" x="${p.marker.px + 4}" y="${top + 12}" fill="#555555">${esc(p.marker.label)}</text>`);
  }
  out.push(`<g class="series" fill="none">`);
  for (const s of p.series) {
    const pts = s.pixels.map(([x, y]) => `${x},${y}`).join(' ');
    out.push(`<polyline data-label="${esc(s.label)}" points="${pts}" stroke="${s.color}" stroke-width="${s.width}"/>`);
    for (const [x, y] of s.pixels) out.push(`<circle cx="${x}" cy="${y}" r="${s.width + 1}" fill="${s.color}"/>`);
  }
  out.push(`</g>`);
  if (p.marker && p.marker.py !== null) {
    out.push(`<circle class="best-point" cx="${p.marker.px}" cy="${p.marker.py}" r="7" fill="none" stroke="${BEST}" stroke-width="2"/>`);
  }
  out.push(`<g class="legend">`);
  p.series.forEach((s, i) => {
    const y = p.legend.y + i * p.legend.lineHeight;
    out.push(`<line x1="${p.legend.x}" y1="${y}" x2="${p.legend.x + 22}" y2="${y}" stroke="${s.color}" stroke-width="${s.width}"/>`);
    out.push(`<text x="${p.legend.x + 28}" y="${y + 4}">${esc(s.label)}</text>`);
  });
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
