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

/** A 2-D chart: axes with ticks, series, legend. */
export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  width?: number;
  height?: number;
  /** Fixed axis ranges; default: the data's range, padded. */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
  /** Text shown in the plot area when no series has a point. */
  emptyText?: string;
}

/** Colour-blind-safe palette (Okabe-Ito), cycled by series index. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

/** Escapes text for XML character data and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/**
 * About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [min, max].
 * Returns at least two ticks; a degenerate range is widened around its value.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`niceTicks: bad range [${min}, ${max}]`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-6 || ticks.length < 2; v += step) {
    ticks.push(Number(v.toPrecision(12)));
    if (ticks.length > 100) break;
  }
  if (ticks[ticks.length - 1]! < max - step * 1e-6) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** Short tick label: SI suffixes for large magnitudes (3M, 1.5k), up to 3 significant digits otherwise. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number): string => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a === 0) return '0';
  return trim(v);
}

const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

function finitePoints(s: PlotSeries): [number, number][] {
  return s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => [x, y]);
}

function extent(values: number[], fixed: readonly [number, number] | undefined): [number, number] {
  if (fixed) return [fixed[0], fixed[1]];
  if (values.length === 0) return [0, 1];
  return [Math.min(...values), Math.max(...values)];
}

function markerPath(x: number, y: number, shape: number): string {
  const r = 3.5;
  switch (shape % 3) {
    case 0:
      return `<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${r}"/>`;
    case 1:
      return `<rect x="${fmt(x - r)}" y="${fmt(y - r)}" width="${2 * r}" height="${2 * r}"/>`;
    default:
      return `<path d="M${fmt(x)},${fmt(y - r - 0.5)} L${fmt(x + r + 0.5)},${fmt(y + r)} L${fmt(x - r - 0.5)},${fmt(y + r)} Z"/>`;
  }
}

/**
 * Renders `spec` as a standalone SVG document (UTF-8, well-formed XML, no scripts or external
 * references), so it can be embedded in Markdown with an image link.
 */
export function renderPlot(spec: PlotSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const legendWidth = spec.series.length > 0 ? 150 : 0;
  const m = { left: 64, right: 16 + legendWidth, top: 36, bottom: 52 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;

  const series = spec.series.map((s, i) => ({ ...s, pts: finitePoints(s), color: s.color ?? PALETTE[i % PALETTE.length]! }));
  const xs = series.flatMap((s) => s.pts.map((p) => p[0]));
  const ys = series.flatMap((s) => s.pts.map((p) => p[1]));
  const [x0, x1] = extent(xs, spec.xRange);
  const [y0, y1] = extent(ys, spec.yRange);
  const xt = niceTicks(x0, x1, 6);
  const yt = niceTicks(y0, y1, 5);
  const xmin = spec.xRange ? x0 : xt[0]!;
  const xmax = spec.xRange ? x1 : xt[xt.length - 1]!;
  const ymin = spec.yRange ? y0 : yt[0]!;
  const ymax = spec.yRange ? y1 : yt[yt.length - 1]!;
  const sx = (x: number): number => m.left + ((x - xmin) / (xmax - xmin || 1)) * pw;
  const sy = (y: number): number => m.top + ph - ((y - ymin) / (ymax - ymin || 1)) * ph;

  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<title>${escapeXml(spec.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${fmt(m.left + pw / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`);

  // Grid and ticks.
  out.push(`<g stroke="#e5e5e5" stroke-width="1">`);
  for (const t of xt) if (t >= xmin && t <= xmax) out.push(`<line x1="${fmt(sx(t))}" y1="${m.top}" x2="${fmt(sx(t))}" y2="${m.top + ph}"/>`);
  for (const t of yt) if (t >= ymin && t <= ymax) out.push(`<line x1="${m.left}" y1="${fmt(sy(t))}" x2="${m.left + pw}" y2="${fmt(sy(t))}"/>`);
  out.push(`</g>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
  out.push(`<g fill="#333333">`);
  for (const t of xt) {
    if (t < xmin || t > xmax) continue;
    out.push(`<text x="${fmt(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of yt) {
    if (t < ymin || t > ymax) continue;
    out.push(`<text x="${m.left - 6}" y="${fmt(sy(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`</g>`);
  out.push(`<text x="${fmt(m.left + pw / 2)}" y="${height - 12}" text-anchor="middle" font-size="12">${escapeXml(spec.xLabel)}</text>`);
  out.push(
    `<text x="16" y="${fmt(m.top + ph / 2)}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${fmt(m.top + ph / 2)})">${escapeXml(spec.yLabel)}</text>`,
  );

  if (xs.length === 0) {
    out.push(`<text x="${fmt(m.left + pw / 2)}" y="${fmt(m.top + ph / 2)}" text-anchor="middle" fill="#777777">${escapeXml(spec.emptyText ?? 'no data')}</text>`);
  }

  // Series, clipped to the plot area.
  out.push(`<clipPath id="plot-area"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath>`);
  out.push(`<g clip-path="url(#plot-area)">`);
  series.forEach((s, i) => {
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    if (s.kind !== 'scatter' && s.pts.length > 1) {
      let d = '';
      s.pts.forEach(([x, y], j) => {
        if (j === 0) d += `M${fmt(sx(x))},${fmt(sy(y))}`;
        else if (s.kind === 'step') d += ` H${fmt(sx(x))} V${fmt(sy(y))}`;
        else d += ` L${fmt(sx(x))},${fmt(sy(y))}`;
      });
      out.push(`<path d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.8"${dash}/>`);
    }
    if (s.kind === 'scatter' || s.kind === 'line-markers' || s.pts.length === 1) {
      out.push(`<g fill="${escapeXml(s.color)}" stroke="#ffffff" stroke-width="0.8">`);
      for (const [x, y] of s.pts) out.push(markerPath(sx(x), sy(y), i));
      out.push(`</g>`);
    }
  });
  out.push(`</g>`);

  // Legend.
  if (series.length > 0) {
    const lx = m.left + pw + 14;
    out.push(`<g font-size="11">`);
    series.forEach((s, i) => {
      const ly = m.top + 8 + i * 18;
      const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
      if (s.kind !== 'scatter') out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${escapeXml(s.color)}" stroke-width="1.8"${dash}/>`);
      if (s.kind === 'scatter' || s.kind === 'line-markers') {
        out.push(`<g fill="${escapeXml(s.color)}">${markerPath(lx + 10, ly, i)}</g>`);
      }
      const label = s.name.length > 22 ? `${s.name.slice(0, 21)}…` : s.name;
      out.push(`<text x="${lx + 26}" y="${ly + 4}">${escapeXml(label)}</text>`);
    });
    out.push(`</g>`);
  }
  out.push(`</svg>`);
  return `${out.join('\n')}\n`;
}
