import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, formatTick, niceTicks, renderPlot } from '../src/svg-plot.ts';
import { paretoFront } from '../src/pareto.ts';
import { allElements, parseXml } from './xml-check.ts';

test('niceTicks covers the range with round steps', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const t = niceTicks(839856, 11800016, 6);
  assert.ok(t[0]! <= 839856 && t[t.length - 1]! >= 11800016);
  const steps = t.slice(1).map((v, i) => v - t[i]!);
  assert.ok(steps.every((s) => Math.abs(s - steps[0]!) < 1e-6), 'evenly spaced');
  assert.equal(steps[0], 2e6);
});

test('niceTicks widens a degenerate range and swaps a reversed one', () => {
  const single = niceTicks(0.5, 0.5);
  assert.ok(single.length >= 2 && single[0]! < 0.5 && single[single.length - 1]! > 0.5);
  assert.deepEqual(niceTicks(10, 0, 2), niceTicks(0, 10, 2));
  assert.throws(() => niceTicks(0, Infinity), RangeError);
});

test('formatTick uses SI suffixes for large values', () => {
  assert.equal(formatTick(3e6), '3M');
  assert.equal(formatTick(1.5e9), '1.5G');
  assert.equal(formatTick(25000), '25k');
  assert.equal(formatTick(0.25), '0.25');
  assert.equal(formatTick(0), '0');
});

test('escapeXml escapes markup characters', () => {
  assert.equal(escapeXml(`a<b & "c" 'd'>`), 'a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
});

test('renderPlot emits well-formed SVG with one path per line series and markers per scatter point', () => {
  const svg = renderPlot({
    title: 'Accuracy <vs> FLOPs & more',
    xLabel: 'FLOPs',
    yLabel: 'accuracy',
    series: [
      { name: 'pss', kind: 'line-markers', points: [[3e6, 0.8], [6e6, 0.85], [9e6, 0.87]] },
      { name: 'uniform "baseline"', kind: 'scatter', points: [[3e6, 0.78], [6e6, NaN], [9e6, 0.86]] },
      { name: 'front', kind: 'step', dashed: true, points: [[3e6, 0.8], [9e6, 0.87]] },
    ],
  });
  const root = parseXml(svg);
  assert.equal(root.name, 'svg');
  assert.equal(root.attributes.xmlns, 'http://www.w3.org/2000/svg');
  const els = allElements(root);
  const seriesGroup = els.find((e) => e.attributes['clip-path'] === 'url(#plot-area)');
  assert.ok(seriesGroup);
  const seriesEls = allElements(seriesGroup);
  assert.equal(seriesEls.filter((e) => e.name === 'path' && e.attributes.fill === 'none').length, 2, 'line-markers and step lines');
  // Markers: 3 circles for pss (shape 0), 2 squares for the scatter (the NaN point is dropped).
  assert.equal(seriesEls.filter((e) => e.name === 'circle').length, 3);
  assert.equal(seriesEls.filter((e) => e.name === 'rect').length, 2);
  assert.ok(svg.includes('Accuracy &lt;vs&gt; FLOPs &amp; more'));
  const legendTexts = els.filter((e) => e.name === 'text').map((e) => e.text);
  assert.ok(legendTexts.includes('uniform &quot;baseline&quot;'), 'legend text, escaped');
  for (const tick of ['3M', '6M', '9M', '0.8']) assert.ok(legendTexts.includes(tick), `tick label ${tick}`);
});

test('renderPlot with no data still renders axes and the empty text', () => {
  const svg = renderPlot({ title: 't', xLabel: 'x', yLabel: 'y', series: [], emptyText: 'nothing yet' });
  const texts = allElements(parseXml(svg)).filter((e) => e.name === 'text').map((e) => e.text);
  assert.ok(texts.includes('nothing yet'));
});

test('renderPlot keeps all coordinates inside the canvas for fixed ranges', () => {
  const svg = renderPlot({ title: 't', xLabel: 'x', yLabel: 'y', width: 300, height: 200, yRange: [0, 1], series: [{ name: 'a', kind: 'line', points: [[0, 0], [1, 1]] }] });
  const path = allElements(parseXml(svg)).find((e) => e.name === 'path' && e.attributes.fill === 'none');
  const nums = (path?.attributes.d ?? '').match(/-?[0-9.]+/g)!.map(Number);
  assert.ok(nums.every((n) => n >= 0 && n <= 300));
});

test('parseXml rejects malformed documents', () => {
  assert.throws(() => parseXml('<svg><g></svg>'));
  assert.throws(() => parseXml('<svg a=1/>'));
  assert.throws(() => parseXml('<svg>a & b</svg>'));
  assert.throws(() => parseXml('<svg/><svg/>'));
});

test('paretoFront keeps points no other point beats on cost and accuracy', () => {
  const pts = [
    { cost: 3, accuracy: 0.8, id: 'a' },
    { cost: 5, accuracy: 0.79, id: 'b' },
    { cost: 6, accuracy: 0.85, id: 'c' },
    { cost: 6, accuracy: 0.84, id: 'd' },
    { cost: 2, accuracy: 0.7, id: 'e' },
    { cost: 9, accuracy: 0.85, id: 'f' },
  ];
  assert.deepEqual(paretoFront(pts).map((p) => p.id), ['e', 'a', 'c']);
  assert.deepEqual(paretoFront([]), []);
});
