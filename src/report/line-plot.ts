/**
 * A line plot laid out in pixels, independent of the output format: the SVG writer and the PNG
 * rasterizer draw the same layout, so both show the same axes, ticks, lines and legend.
 */

export interface Series {
  label: string;
  /** [x, y] in data units, drawn in the given order. */
  points: [number, number][];
  /** Drawn wider and in black (the average). */
  emphasis?: boolean;
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Category names at x = 0, 1, 2, … when x is not numeric. */
  xCategories?: string[];
  /** The best job: a vertical line at data x and, with y, a ring around its point. */
  marker?: { x: number; y?: number; label: string };
  width?: number;
  height?: number;
}

export interface Tick {
  value: number;
  px: number;
  label: string;
}

export interface LaidOutSeries {
  label: string;
  color: string;
  rgb: [number, number, number];
  width: number;
  /** Pixel positions of the points. */
  pixels: [number, number][];
  data: [number, number][];
}

export interface PlotLayout {
  width: number;
  height: number;
  title: string;
  xLabel: string;
  yLabel: string;
  /** The plot area: left, top, right, bottom in pixels. */
  area: { left: number; top: number; right: number; bottom: number };
  xTicks: Tick[];
  yTicks: Tick[];
  series: LaidOutSeries[];
  legend: { x: number; y: number; lineHeight: number };
  marker: { px: number; py: number | null; label: string } | null;
  xToPx(x: number): number;
  yToPx(y: number): number;
}

/** Matplotlib's tab10, then black for emphasized series. */
const PALETTE: [number, number, number][] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

function hex([r, g, b]: [number, number, number]): string {
  return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
}

/** Round tick values (1, 2, 2.5, 5 × 10^k) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9 || ticks.length < 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function tickLabel(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/**
 * Width of a label in pixels, an upper bound for both outputs: 12 px sans-serif averages under 7 px a
 * character, the PNG's bitmap font takes 6.
 */
export function labelWidthPx(s: string): number {
  return s.length * 7;
}

const LEGEND_MIN = 190;
const LEGEND_LINE = 18;

export function layoutLinePlot(spec: PlotSpec): PlotLayout {
  // The legend sits right of the plot: the canvas grows to fit its longest label (two swept keys make
  // labels such as `average (method.threshold=20)`) and its rows, so no label is cut off.
  const legendWidth = Math.max(LEGEND_MIN, 28 + Math.max(0, ...spec.series.map((s) => labelWidthPx(s.label))) + 8);
  const width = (spec.width ?? 760) + (legendWidth - LEGEND_MIN);
  const height = Math.max(spec.height ?? 440, 40 + 8 + spec.series.length * LEGEND_LINE + 10);
  const area = { left: 70, top: 40, right: width - legendWidth - 20, bottom: height - 56 };
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]));
  const cats = spec.xCategories;
  let xTickValues: number[];
  let xMin: number;
  let xMax: number;
  if (cats && cats.length > 0) {
    xTickValues = cats.map((_, i) => i);
    xMin = -0.5;
    xMax = cats.length - 0.5;
  } else {
    xTickValues = niceTicks(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1);
    xMin = xTickValues[0];
    xMax = xTickValues[xTickValues.length - 1];
  }
  const yTickValues = niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
  const yMin = yTickValues[0];
  const yMax = yTickValues[yTickValues.length - 1];
  const xToPx = (x: number) => area.left + ((x - xMin) / (xMax - xMin)) * (area.right - area.left);
  const yToPx = (y: number) => area.bottom - ((y - yMin) / (yMax - yMin)) * (area.bottom - area.top);
  let colorIndex = 0;
  const series = spec.series.map((s) => {
    const rgb: [number, number, number] = s.emphasis ? [0, 0, 0] : PALETTE[colorIndex++ % PALETTE.length];
    return {
      label: s.label,
      rgb,
      color: hex(rgb),
      width: s.emphasis ? 3 : 1.75,
      pixels: s.points.map(([x, y]) => [round2(xToPx(x)), round2(yToPx(y))] as [number, number]),
      data: s.points.map((p) => [p[0], p[1]] as [number, number]),
    };
  });
  return {
    width,
    height,
    title: spec.title,
    xLabel: spec.xLabel,
    yLabel: spec.yLabel,
    area,
    xTicks: xTickValues.map((v, i) => ({ value: v, px: round2(xToPx(v)), label: cats ? cats[i] : tickLabel(v) })),
    yTicks: yTickValues.map((v) => ({ value: v, px: round2(yToPx(v)), label: tickLabel(v) })),
    series,
    legend: { x: area.right + 20, y: area.top + 8, lineHeight: LEGEND_LINE },
    marker: spec.marker
      ? { px: round2(xToPx(spec.marker.x)), py: spec.marker.y === undefined ? null : round2(yToPx(spec.marker.y)), label: spec.marker.label }
      : null,
    xToPx,
    yToPx,
  };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
