import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderLineChart, renderSeededChart, seededRows, seriesMarkName, siLabel } from '../src/charts.ts';
import type { SeededChart } from '../src/charts.ts';
import { meanStd } from '../src/rank-stats.ts';
import { allElements, parseXml } from './xml-check.ts';
import type { XmlElement } from './xml-check.ts';

/** The mark groups of a rendered chart by the name they were given (`<name>_marks`), with their items. */
function markGroups(svg: string): Map<string, XmlElement[]> {
  const root = parseXml(svg);
  assert.equal(root.name, 'svg');
  assert.equal(root.attributes.xmlns, 'http://www.w3.org/2000/svg');
  const out = new Map<string, XmlElement[]>();
  for (const e of allElements(root)) {
    const m = /role-mark (\S+)_marks/.exec(e.attributes.class ?? '');
    if (e.name === 'g' && m) out.set(m[1]!, e.children);
  }
  return out;
}

const texts = (svg: string, role: string): string[] =>
  allElements(parseXml(svg))
    .filter((e) => e.name === 'g' && (e.attributes.class ?? '').includes(role))
    .flatMap((g) => g.children.filter((c) => c.name === 'text').map((c) => c.text));

const translate = (e: XmlElement): [number, number] => {
  const m = /translate\(([-0-9.e]+),([-0-9.e]+)\)/.exec(e.attributes.transform ?? '');
  assert.ok(m, `translate in ${JSON.stringify(e.attributes)}`);
  return [Number(m[1]), Number(m[2])];
};

test('siLabel shortens counts with SI suffixes', () => {
  assert.equal(siLabel(3e6), '3M');
  assert.equal(siLabel(1.5e9), '1.5G');
  assert.equal(siLabel(25000), '25k');
  assert.equal(siLabel(0.25), '0.25');
  assert.equal(siLabel(0), '0');
});

test('a line chart is well-formed SVG with one mark group per series, NaN points dropped and text escaped', async () => {
  const svg = await renderLineChart({
    title: 'Accuracy <vs> FLOPs & more',
    xLabel: 'FLOPs',
    yLabel: 'accuracy',
    series: [
      { name: 'pss', kind: 'line-markers', points: [[3e6, 0.8], [6e6, 0.85], [9e6, 0.87]] },
      { name: 'uniform "baseline"', kind: 'scatter', points: [[3e6, 0.78], [6e6, NaN], [9e6, 0.86]] },
      { name: 'Pareto front', kind: 'step', dashed: true, color: '#555555', points: [[3e6, 0.8], [9e6, 0.87]] },
    ],
  });
  const groups = markGroups(svg);
  const pss = seriesMarkName(0, 'pss');
  const uni = seriesMarkName(1, 'uniform "baseline"');
  const front = seriesMarkName(2, 'Pareto front');
  assert.deepEqual([...groups.keys()].sort(), [pss, `${pss}_points`, uni, front].sort());
  assert.equal(groups.get(pss)!.filter((e) => e.name === 'path').length, 1, 'one line');
  assert.equal(groups.get(`${pss}_points`)!.length, 3, 'a marker per point');
  assert.equal(groups.get(uni)!.length, 2, 'the NaN point is dropped');
  const frontPath = groups.get(front)![0]!;
  assert.equal(frontPath.attributes.stroke, '#555555');
  assert.equal(frontPath.attributes['stroke-dasharray'], '5,3');
  // step-after: a horizontal then a vertical segment between the two points
  const corners = [...(frontPath.attributes.d ?? '').matchAll(/[ML]([-0-9.]+),([-0-9.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(corners.length, 3);
  assert.equal(corners[1]![1], corners[0]![1], 'level from the first point');
  assert.equal(corners[2]![0], corners[1]![0], 'then straight up at the second');
  assert.ok(corners[2]![1]! < corners[1]![1]!, 'to the higher accuracy');
  assert.ok(svg.includes('Accuracy &lt;vs&gt; FLOPs &amp; more'));
  assert.deepEqual(texts(svg, 'role-legend-label'), ['pss', 'uniform "baseline"', 'Pareto front']);
  const xLabels = texts(svg, 'role-axis-label');
  for (const tick of ['3M', '6M', '9M', '0.80']) assert.ok(xLabels.includes(tick), `tick label ${tick} in ${xLabels.join(' ')}`);
});

test('a line chart without points shows its empty text on unit axes', async () => {
  const svg = await renderLineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', kind: 'line', points: [[NaN, 1]] }], emptyText: 'nothing yet' });
  const groups = markGroups(svg);
  assert.equal(groups.get('empty_text')![0]!.text, 'nothing yet');
  assert.equal(groups.get(seriesMarkName(0, 'a'))!.length, 0);
});

/** Deploy accuracies (percent) of the recorded benchmark run: per method and budget, one value per seed. */
function recordedDeploy(): SeededChart {
  const cache = JSON.parse(readFileSync(new URL('./data/quality-cache.json', import.meta.url), 'utf8')) as {
    supernets: Record<string, { method: string; deploy: Record<string, { accuracy: number }> }>;
  };
  const budgets = ['127000', '234000', '341000'];
  const series = ['uniform', 'pss'].map((method) => {
    const runs = Object.values(cache.supernets).filter((r) => r.method === method);
    assert.equal(runs.length, 3, `${method}: three seeds in the fixture`);
    return { name: method, values: Object.fromEntries(budgets.map((b) => [b, runs.map((r) => r.deploy[b]!.accuracy * 100)])) };
  });
  return {
    title: 'Deploy choices',
    categories: budgets,
    xLabel: 'FLOPs budget',
    yLabel: 'test accuracy (%)',
    series,
    references: [
      { name: 'trained alone', byCategory: { '127000': 87.31, '234000': 88.48, '341000': 88.65 } },
      { name: 'FLOPs count', value: 86 },
    ],
  };
}

test('a seeded chart draws mean ± std per method as a point and an error-bar rule, the references beside them', async () => {
  const chart = recordedDeploy();
  const svg = await renderSeededChart(chart);
  const groups = markGroups(svg);
  assert.deepEqual(texts(svg, 'role-legend-label'), ['uniform', 'pss', 'trained alone', 'FLOPs count']);
  const rows = seededRows(chart);
  let pixelsPerPoint: number | undefined;
  chart.series.forEach((s, i) => {
    const name = seriesMarkName(i, s.name);
    const points = groups.get(name);
    const rules = groups.get(`${name}_errorbar_layer_2`)?.filter((e) => e.attributes['aria-roledescription'] === 'errorbar');
    assert.ok(points && rules, `${s.name}: a point group and an error-bar rule group`);
    assert.equal(points.length, 3, `${s.name}: a point per budget`);
    assert.equal(rules.length, 3, `${s.name}: an error bar per budget`);
    chart.categories.forEach((c, k) => {
      const { mean, std } = meanStd(s.values[c]!);
      const row = rows.find((r) => r.series === s.name && r.category === c)!;
      assert.ok(Math.abs(row.mean - mean) < 1e-9 && Math.abs(row.upper - row.lower - 2 * std) < 1e-9);
      const [px, py] = translate(points[k]!);
      const [rx, ry] = translate(rules[k]!);
      const len = -Number(rules[k]!.attributes.y2);
      assert.ok(Math.abs(px - rx) < 1e-6, 'the bar stands on the point');
      assert.ok(Math.abs(ry - len / 2 - py) < 1e-6, 'the point is in the middle of its bar (the mean)');
      // every bar is 2 std long on one scale
      const scale = len / (2 * std);
      pixelsPerPoint ??= scale;
      assert.ok(Math.abs(scale - pixelsPerPoint) < 1e-6 * pixelsPerPoint, `${s.name} ${c}: bar length proportional to its std`);
    });
  });
  // the two methods stand side by side within each budget
  const xs = (name: string) => groups.get(name)!.map((e) => translate(e)[0]);
  xs(seriesMarkName(0, 'uniform')).forEach((x, k) => assert.ok(x < xs(seriesMarkName(1, 'pss'))[k]!));
  assert.equal(groups.get('ref0_trained_alone')!.length, 3, 'a reference tick per budget');
  assert.equal(groups.get('ref1_FLOPs_count')!.length, 1, 'one reference rule across the chart');
});

test('a seeded chart leaves out categories without finite values', () => {
  const rows = seededRows({ title: 't', categories: ['a', 'b'], xLabel: 'x', yLabel: 'y', series: [{ name: 'm', values: { a: [1, NaN, 3], b: [NaN] } }] });
  assert.deepEqual(rows, [{ series: 'm', category: 'a', mean: 2, lower: 2 - Math.SQRT2, upper: 2 + Math.SQRT2, seeds: 2 }]);
});

test('parseXml rejects malformed documents', () => {
  assert.throws(() => parseXml('<svg><g></svg>'));
  assert.throws(() => parseXml('<svg a=1/>'));
  assert.throws(() => parseXml('<svg>a & b</svg>'));
  assert.throws(() => parseXml('<svg/><svg/>'));
});
