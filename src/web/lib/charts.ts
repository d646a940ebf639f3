/**
 * Small inline SVG charts for the report pages (no library, nothing from a CDN). Each chart is a
 * <figure>: the SVG is one image with an aria-label summary, and a <details> underneath holds the
 * same numbers as a table, for screen readers, keyboards and print.
 */
import { h } from './dom.js';
import { t } from './pages-text.js';

const SVG = 'http://www.w3.org/2000/svg';

export interface ChartPoint {
  label: string;
  /** 0 to 100; null when nothing was counted there (no settled session): drawn as a gap, not as 0. */
  value: number | null;
}

/** A figure's percentage, or null when nobody was expected (the API then says 0 %: docs/reports.md). */
export function settledPercentage(f: { percentage: number; total: number; excused: number }): number | null {
  return f.total - f.excused > 0 ? f.percentage : null;
}

const valueText = (v: number | null): string => (v === null ? t('chart.noData') : t('chart.percent', { value: v }));

export interface ChartOptions {
  title: string;
  /** What the numbers are, in the table's header (e.g. "Attendance %"). */
  valueLabel: string;
  /** First column's header (e.g. "Week of"). */
  labelHeader: string;
  /** A dashed horizontal line, e.g. the at-risk threshold. */
  threshold?: number;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Spoken summary: how many points, the range and the first and last values. */
export function chartSummary(opts: ChartOptions, points: readonly ChartPoint[]): string {
  const counted = points.filter((p): p is ChartPoint & { value: number } => p.value !== null);
  if (counted.length === 0) return t('chart.empty', { title: opts.title });
  const values = counted.map((p) => p.value);
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const gaps = points.length - counted.length;
  const summary = t('chart.summary', {
    title: opts.title,
    points: points.length,
    first: first.label,
    firstValue: valueText(first.value),
    last: last.label,
    lastValue: valueText(last.value),
    lowest: Math.min(...values),
    highest: Math.max(...values),
  });
  return summary + (gaps > 0 ? t('chart.gaps', { count: gaps }) : t('chart.end'));
}

function dataTable(opts: ChartOptions, points: readonly ChartPoint[]): HTMLElement {
  return h(
    'details',
    { class: 'chart-data' },
    h('summary', {}, t('chart.dataTable', { title: opts.title })),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, opts.labelHeader), h('th', { scope: 'col' }, opts.valueLabel))),
      h(
        'tbody',
        {},
        ...points.map((p) =>
          h('tr', {}, h('th', { scope: 'row' }, p.label), h('td', {}, p.value === null ? t('chart.noData') : `${p.value}`)),
        ),
      ),
    ),
  );
}

const W = 640;
const H = 240;
const PAD = { left: 40, right: 12, top: 12, bottom: 36 };

function frame(opts: ChartOptions, points: readonly ChartPoint[]): { root: SVGSVGElement; y: (v: number) => number } {
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': chartSummary(opts, points),
    class: 'chart',
    preserveAspectRatio: 'xMidYMid meet',
  });
  const y = (v: number) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - Math.max(0, Math.min(100, v)) / 100);
  for (const tick of [0, 25, 50, 75, 100]) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(tick), y2: y(tick), class: 'chart-grid' }));
    root.append(svg('text', { x: PAD.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'chart-axis' }, `${tick}`));
  }
  if (opts.threshold !== undefined) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(opts.threshold), y2: y(opts.threshold), class: 'chart-threshold' }));
  }
  return { root, y };
}

function figure(opts: ChartOptions, points: readonly ChartPoint[], chart: SVGSVGElement): HTMLElement {
  return h('figure', { class: 'chart-figure' }, h('figcaption', {}, opts.title), chart, dataTable(opts, points));
}

/** Labels under the x axis, thinned so they do not overlap. */
function xLabels(root: SVGSVGElement, points: readonly ChartPoint[], x: (i: number) => number): void {
  const every = Math.max(1, Math.ceil(points.length / 8));
  const last = points.length - 1;
  points.forEach((p, i) => {
    // The last point gets its label unless the previous label sits too close to it.
    if (i % every === 0 ? i === last || last - i >= every / 2 : i === last) {
      root.append(svg('text', { x: x(i), y: H - PAD.bottom + 18, 'text-anchor': 'middle', class: 'chart-axis' }, p.label));
    }
  });
}

/** A line with a dot per point (a trend over time). */
export function lineChart(opts: ChartOptions, points: readonly ChartPoint[]): HTMLElement {
  const { root, y } = frame(opts, points);
  const span = W - PAD.left - PAD.right;
  const x = (i: number) => PAD.left + (points.length <= 1 ? span / 2 : (span * i) / (points.length - 1));
  if (points.length > 0) {
    for (const run of runs(points)) {
      root.append(svg('polyline', { points: run.map((i) => `${x(i)},${y(points[i]!.value!)}`).join(' '), class: 'chart-line' }));
    }
    points.forEach((p, i) => {
      if (p.value === null) return;
      const dot = svg('circle', { cx: x(i), cy: y(p.value), r: 3.5, class: 'chart-dot' });
      dot.append(svg('title', {}, t('chart.point', { label: p.label, value: p.value })));
      root.append(dot);
    });
    xLabels(root, points, x);
  }
  return figure(opts, points, root);
}

/** One bar per point (subjects side by side); bars under the threshold are marked. */
export function barChart(opts: ChartOptions, points: readonly ChartPoint[]): HTMLElement {
  const { root, y } = frame(opts, points);
  const span = W - PAD.left - PAD.right;
  const slot = span / Math.max(1, points.length);
  const x = (i: number) => PAD.left + slot * i + slot / 2;
  points.forEach((p, i) => {
    if (p.value === null) {
      root.append(svg('text', { x: x(i), y: y(0) - 4, 'text-anchor': 'middle', class: 'chart-value chart-no-data' }, '–'));
      return;
    }
    const low = opts.threshold !== undefined && p.value < opts.threshold;
    const bar = svg('rect', {
      x: x(i) - Math.min(40, slot * 0.35),
      y: y(p.value),
      width: Math.min(80, slot * 0.7),
      height: y(0) - y(p.value),
      class: low ? 'chart-bar chart-bar-low' : 'chart-bar',
    });
    bar.append(svg('title', {}, t('chart.point', { label: p.label, value: p.value })));
    root.append(bar);
    root.append(svg('text', { x: x(i), y: y(p.value) - 4, 'text-anchor': 'middle', class: 'chart-value' }, `${p.value}`));
  });
  xLabels(root, points, x);
  return figure(opts, points, root);
}

/**
 * A word-sized trend for a table cell (a subject's weeks in the at-risk table). The cell's row
 * already holds the figures; the line's label reads the points out for screen readers.
 */
export function sparkline(title: string, points: readonly ChartPoint[], threshold?: number): SVGSVGElement {
  const w = 120;
  const ht = 28;
  const label =
    points.length === 0
      ? t('chart.empty', { title })
      : t('chart.sparkline', {
          title,
          points: points.map((p) => t('chart.sparkPoint', { label: p.label, value: valueText(p.value) })).join(', '),
        });
  const root = svg('svg', { viewBox: `0 0 ${w} ${ht}`, role: 'img', 'aria-label': label, class: 'sparkline', width: w, height: ht });
  root.append(svg('title', {}, label));
  const y = (v: number) => 2 + (ht - 4) * (1 - Math.max(0, Math.min(100, v)) / 100);
  const x = (i: number) => (points.length <= 1 ? w / 2 : 2 + ((w - 4) * i) / (points.length - 1));
  if (threshold !== undefined) root.append(svg('line', { x1: 0, x2: w, y1: y(threshold), y2: y(threshold), class: 'chart-threshold' }));
  for (const run of runs(points)) {
    root.append(svg('polyline', { points: run.map((i) => `${x(i)},${y(points[i]!.value!)}`).join(' '), class: 'chart-line' }));
  }
  const last = points[points.length - 1];
  if (last && last.value !== null) root.append(svg('circle', { cx: x(points.length - 1), cy: y(last.value), r: 2.5, class: 'chart-dot' }));
  return root;
}

/** The indexes of each run of counted points: a line breaks where nothing was counted. */
function runs(points: readonly ChartPoint[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  points.forEach((p, i) => {
    if (p.value === null) {
      if (current.length > 0) out.push(current);
      current = [];
    } else current.push(i);
  });
  if (current.length > 0) out.push(current);
  return out;
}
