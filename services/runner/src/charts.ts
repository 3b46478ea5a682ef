// The report and benchmark figures: Vega-Lite specs built from run data, compiled by vega-lite and
// rendered headless to SVG by vega (no canvas, no browser). Two kinds of chart: x-y series (the
// `report` plots: accuracy against FLOPs with the Pareto front, losses, scores) and seeded
// comparisons (a mean with a ± std error bar per method and category, with reference values such
// as trained-alone accuracies or the FLOPs count's rank correlation drawn in the same figure).
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { meanStd } from './rank-stats.ts';

/** How a series is drawn. */
export type SeriesKind = 'line' | 'scatter' | 'line-markers' | 'step';

/** One named series of (x, y) points; non-finite points are dropped. */
export interface PlotSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  kind: SeriesKind;
  /** CSS colour; default from the palette by series index. */
  color?: string;
  dashed?: boolean;
}

/** An x-y chart: one layer per series, a legend naming them. */
export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  /** Size of the plot area in pixels (axes, title and legend come on top). */
  width?: number;
  height?: number;
  /** Text shown in the plot area when no series has a point. */
  emptyText?: string;
}

/** One method of a seeded comparison: its per-seed values in each category (NaN entries are dropped). */
export interface SeededSeries {
  name: string;
  values: Readonly<Record<string, readonly number[]>>;
}

/**
 * A reference drawn with the methods: either one value per category (a tick across the
 * category) or, with `value`, one value for the whole chart (a rule across it).
 */
export interface Reference {
  name: string;
  byCategory?: Readonly<Record<string, number>>;
  value?: number;
}

/** Mean ± std over seeds per method and category, the references in the same figure. */
export interface SeededChart {
  title: string;
  /** Categories along x, in this order (budgets, predictors). */
  categories: readonly string[];
  xLabel: string;
  yLabel: string;
  series: readonly SeededSeries[];
  references?: readonly Reference[];
  /** Plot-area size in pixels. */
  width?: number;
  height?: number;
}

/** Colour-blind-safe palette (Okabe-Ito, black left out for the references), cycled by series index. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442'];

/** Colours of the references: dark greys, so they read as baselines beside the coloured methods. */
export const REFERENCE_COLORS = ['#222222', '#777777', '#aaaaaa'];

/**
 * The name of the mark group a series is drawn in (`<g class="... <name>_marks">` in the SVG):
 * `s<index>_` and the series name with everything but letters and digits replaced by `_`.
 */
export function seriesMarkName(index: number, name: string): string {
  return `s${index}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** Axis labels with SI suffixes from 10,000 up (25k, 3M, 1.5G), plain numbers below. */
const SI_LABEL = "abs(datum.value) >= 1e4 ? format(datum.value, '~s') : format(datum.value, '~g')";

/** One layer of a layered Vega-Lite chart (a unit spec or a nested layer). */
type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

const FONT = { font: 'sans-serif', labelFont: 'sans-serif', titleFont: 'sans-serif' };

function baseConfig(): NonNullable<TopLevelSpec['config']> {
  return {
    font: 'sans-serif',
    axis: { ...FONT, grid: true, gridColor: '#e5e5e5', labelFontSize: 11, titleFontSize: 12 },
    legend: { ...FONT, labelFontSize: 11, titleFontSize: 11, labelLimit: 0 },
    title: { font: 'sans-serif', fontSize: 14, anchor: 'middle' },
    view: { stroke: '#333333' },
  };
}

/** A short label for a count: SI suffixes from 10,000 up (25k, 3M, 1.5G), up to 3 significant digits otherwise. */
export function siLabel(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number): string => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function finite(points: readonly (readonly [number, number])[]): { x: number; y: number }[] {
  return points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => ({ x, y }));
}

/** The Vega-Lite spec of an x-y chart (exported so tests and callers can inspect what is drawn). */
export function lineChartSpec(c: LineChart): TopLevelSpec {
  const names = c.series.map((s) => s.name);
  const colors = c.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]!);
  const color = { scale: { domain: names, range: colors }, legend: names.length > 0 ? { title: null } : null };
  const x = { field: 'x', type: 'quantitative' as const, title: c.xLabel, scale: { zero: false, nice: true, padding: 8 }, axis: { labelExpr: SI_LABEL, tickCount: 6, labelFlush: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: c.yLabel, scale: { zero: false, nice: true, padding: 8 } };
  const layers: Layer[] = c.series.flatMap((s, i): Layer[] => {
    const name = seriesMarkName(i, s.name);
    const values = finite(s.points);
    const encoding = { x, y, color: { datum: s.name, ...color } };
    const points: Layer = { name: s.kind === 'scatter' ? name : `${name}_points`, data: { values }, mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding };
    if (s.kind === 'scatter') return [points];
    const line: Layer = {
      name,
      data: { values },
      mark: { type: 'line', strokeWidth: 1.8, strokeDash: s.dashed ? [5, 3] : [1, 0], interpolate: s.kind === 'step' ? 'step-after' : 'linear' },
      encoding,
    };
    // a lone point of a line series is still drawn
    return s.kind === 'line-markers' || values.length === 1 ? [line, points] : [line];
  });
  const empty = c.series.every((s) => finite(s.points).length === 0);
  if (empty) {
    // no data: fixed unit axes and the empty text in the middle of the plot
    layers.push({
      name: 'empty_text',
      data: { values: [{ x: 0.5, y: 0.5 }] },
      mark: { type: 'text', color: '#777777', fontSize: 12, text: c.emptyText ?? 'no data' },
      encoding: {
        x: { ...x, scale: { domain: [0, 1] } },
        y: { ...y, scale: { domain: [0, 1] } },
      },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: c.title,
    width: c.width ?? 460,
    height: c.height ?? 300,
    background: 'white',
    config: baseConfig(),
    layer: layers,
  };
}

/** One row a seeded chart draws: a method's mean and ± std over seeds in a category. */
export interface SeededRow {
  series: string;
  category: string;
  mean: number;
  lower: number;
  upper: number;
  seeds: number;
}

/** The rows of a seeded chart: mean and sample std of each method's finite values per category. */
export function seededRows(c: SeededChart): SeededRow[] {
  const rows: SeededRow[] = [];
  for (const s of c.series) {
    for (const category of c.categories) {
      const xs = (s.values[category] ?? []).filter((v) => Number.isFinite(v));
      if (xs.length === 0) continue;
      const { mean, std } = meanStd(xs);
      rows.push({ series: s.name, category, mean, lower: mean - std, upper: mean + std, seeds: xs.length });
    }
  }
  return rows;
}

/**
 * The Vega-Lite spec of a seeded comparison: per method a layer group (`seriesMarkName`) with the
 * mean as a point and the ± std as an error bar (a rule with end ticks), the methods side by side
 * within each category; references as a dark tick per category or a dashed rule across the plot.
 */
export function seededChartSpec(c: SeededChart): TopLevelSpec {
  const refs = c.references ?? [];
  const names = [...c.series.map((s) => s.name), ...refs.map((r) => r.name)];
  const colors = [...c.series.map((_, i) => PALETTE[i % PALETTE.length]!), ...refs.map((_, i) => REFERENCE_COLORS[i % REFERENCE_COLORS.length]!)];
  const color = { scale: { domain: names, range: colors }, legend: { title: null } };
  const x = { field: 'category', type: 'nominal' as const, title: c.xLabel, sort: [...c.categories], scale: { domain: [...c.categories] }, axis: { labelAngle: 0 } };
  const xOffset = { field: 'series', type: 'nominal' as const, scale: { domain: c.series.map((s) => s.name), paddingOuter: 0.3 } };
  const yTitle = c.yLabel;
  const rows = seededRows(c);
  const layers: Layer[] = [];
  c.series.forEach((s, i) => {
    const mine = rows.filter((r) => r.series === s.name);
    if (mine.length === 0) return;
    const name = seriesMarkName(i, s.name);
    const enc = { x, xOffset, color: { datum: s.name, ...color } };
    layers.push({
      data: { values: mine },
      layer: [
        {
          name: `${name}_errorbar`,
          mark: { type: 'errorbar', ticks: { size: 6 }, rule: { strokeWidth: 1.5 } },
          encoding: { ...enc, y: { field: 'lower', type: 'quantitative', title: yTitle, scale: { zero: false } }, y2: { field: 'upper' } },
        },
        {
          name,
          mark: { type: 'point', filled: true, size: 50, opacity: 1 },
          encoding: {
            ...enc,
            y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: false } },
            tooltip: [{ field: 'series' }, { field: 'category' }, { field: 'mean', format: '.4f' }, { field: 'seeds' }],
          },
        },
      ],
    });
  });
  refs.forEach((r, i) => {
    const name = `ref${i}_${r.name.replace(/[^A-Za-z0-9]/g, '_')}`;
    if (r.value !== undefined && Number.isFinite(r.value)) {
      layers.push({
        name,
        data: { values: [{ value: r.value, reference: r.name }] },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, color: { datum: r.name, ...color } },
      });
    }
    const byCategory = Object.entries(r.byCategory ?? {}).filter(([k, v]) => c.categories.includes(k) && Number.isFinite(v));
    if (byCategory.length > 0) {
      layers.push({
        name,
        data: { values: byCategory.map(([category, value]) => ({ category, value, reference: r.name })) },
        mark: { type: 'tick', thickness: 2.5, bandSize: 0 },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false } }, color: { datum: r.name, ...color } },
      });
    }
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: c.title,
    width: c.width ?? Math.max(360, c.categories.length * (40 + 22 * c.series.length)),
    height: c.height ?? 300,
    background: 'white',
    config: baseConfig(),
    layer: layers,
  };
}

/**
 * Compiles a Vega-Lite spec and renders it headless to a standalone SVG document (no scripts,
 * no external references), so it can be linked from Markdown. The view is finalized afterwards.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    return `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`;
  } finally {
    view.finalize();
  }
}

/** Renders an x-y chart to SVG. */
export function renderLineChart(c: LineChart): Promise<string> {
  return renderSvg(lineChartSpec(c));
}

/** Renders a seeded comparison to SVG. */
export function renderSeededChart(c: SeededChart): Promise<string> {
  return renderSvg(seededChartSpec(c));
}
