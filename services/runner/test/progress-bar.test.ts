import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, RateEstimator, formatDuration, formatProgressLine, headlineLoss } from '../src/progress-bar.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 80, write: (c: string) => chunks.push(c) };
}

test('formatDuration', () => {
  assert.equal(formatDuration(5), '5s');
  assert.equal(formatDuration(245), '4m05s');
  assert.equal(formatDuration(3720), '1h02m');
  assert.equal(formatDuration(undefined), '?');
  assert.equal(formatDuration(Infinity), '?');
});

test('headlineLoss prefers total, else the mean', () => {
  assert.equal(headlineLoss({ total: 2, max: 1 }), 2);
  assert.equal(headlineLoss({ max: 1, min: 3 }), 2);
  assert.equal(headlineLoss({}), undefined);
});

test('formatProgressLine is a plain line: step/total, loss, rate, ETA and phase, no bar', () => {
  const line = formatProgressLine({ step: 50, targetStep: 200, losses: { total: 1.23456 }, stepsPerSecond: 2.5, etaSeconds: 60, phase: 'block-1' });
  assert.equal(line, 'step 50/200 (25%)  loss 1.2346  2.50 steps/s  ETA 1m00s  block-1');
  assert.equal(formatProgressLine({ step: 1, targetStep: 2, losses: {}, phase: 'train' }), 'step 1/2 (50%)  loss ?  ? steps/s  ETA ?');
});

test('ProgressBar draws a cli-progress bar on a TTY with the ETA it is given', (t) => {
  const s = sink(true);
  const bar = new ProgressBar(s, 10);
  // the bar's redraw timer keeps the process alive until finish(): end it even when an assertion fails
  t.after(() => bar.finish());
  bar.update({ step: 1, targetStep: 10, losses: { total: 1 }, etaSeconds: 90 });
  const first = s.chunks.join('');
  assert.match(first, /\[###\.{27}\] 1\/10 10%  loss 1\.0000  \? steps\/s  ETA 1m30s/);
  assert.ok(!first.includes('\n'), 'drawn in place');
  // a message ends the bar's line and goes below it
  bar.log('hello');
  assert.equal(s.chunks.at(-2), '\n');
  assert.equal(s.chunks.at(-1), 'hello\n');
  const before = s.chunks.length;
  bar.update({ step: 4, targetStep: 10, losses: { total: 1 }, etaSeconds: 50 });
  bar.update({ step: 5, targetStep: 10, losses: { max: 1, min: 2 }, stepsPerSecond: 2.5, etaSeconds: 2, phase: 'block-1' });
  bar.finish();
  // stop draws the last update whatever the library's throttle did, then ends the line
  const second = s.chunks.slice(before).join('');
  assert.match(second, /\[#{15}\.{15}\] 5\/10 50%  loss 1\.5000  2\.50 steps\/s  ETA 2s  block-1/);
  assert.ok(second.endsWith('\n') && second.indexOf('\n') === second.length - 1, 'one line, redrawn in place');
  bar.finish();
  bar.log('after');
  assert.equal(s.chunks.at(-1), 'after\n');
  assert.equal(s.chunks.slice(before).join('').length, second.length + 'after\n'.length, 'finish twice writes nothing more');
});

test('ProgressBar prints a line every N steps and the last one elsewhere', () => {
  const s = sink(false);
  const bar = new ProgressBar(s, 10);
  for (let step = 2; step <= 24; step += 2) bar.update({ step, targetStep: 24, losses: { total: 1 } });
  bar.finish();
  const steps = s.chunks.map((c) => Number(/^step (\d+)\/24 /.exec(c)![1]));
  assert.deepEqual(steps, [2, 12, 22, 24]);
  // plain lines: no bar, nothing redrawn
  assert.ok(s.chunks.every((c) => c.endsWith('\n') && !c.includes('\r') && !c.includes('[') && !c.includes('#')));
});

test('RateEstimator gives steps/s and ETA from a sliding window', () => {
  const r = new RateEstimator(3);
  assert.deepEqual(r.observe(0, 0, 100), {});
  assert.deepEqual(r.observe(1000, 10, 100), { stepsPerSecond: 10, etaSeconds: 9 });
  r.observe(2000, 20, 100);
  const later = r.observe(3000, 40, 100); // window drops t=0: 30 steps in 2 s
  assert.equal(later.stepsPerSecond, 15);
  assert.equal(later.etaSeconds, 4);
});
