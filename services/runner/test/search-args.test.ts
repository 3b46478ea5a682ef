import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STEPS, QUICK_MAX_STEPS, QUICK_STRATEGY_CONFIG, UsageError, parseBudgets, parseSearchArgs, stepsForEpochs } from '../src/search-args.ts';

function run(argv: string[]) {
  const c = parseSearchArgs(argv);
  assert.equal(c.kind, 'run');
  return c.kind === 'run' ? c.options : assert.fail();
}

test('defaults: pss on fashion-mnist, mbv2-small, default steps, budgets left to the space', () => {
  const o = run([]);
  assert.equal(o.strategy, 'pss');
  assert.deepEqual(o.dataset, { kind: 'builtin', name: 'fashion-mnist' });
  assert.equal(o.space, 'mbv2-small');
  assert.equal(o.steps, DEFAULT_STEPS);
  assert.equal(o.budgets, undefined);
  assert.equal(o.batchSize, 64);
  assert.equal(o.out, 'runs/pss-0');
  assert.equal(o.resume, false);
  assert.equal(o.server, undefined);
});

test('every flag is read', () => {
  const o = run([
    '--strategy', 'cafenet', '--dataset', '/data/cifar', '--format', 'cifar10', '--budgets', '9e6,3e6,6M',
    '--space', 'mbv1-small', '--steps', '120', '--batch-size', '32', '--out', 'o', '--seed', '7',
    '--server', '127.0.0.1:5000', '--token', 't', '--max-train', '1000', '--max-test', '200',
    '--progress-interval', '4', '--strategy-config', '{"K":2}', '--resume',
  ]);
  assert.equal(o.strategy, 'cafenet');
  assert.deepEqual(o.dataset, { kind: 'path', path: '/data/cifar', format: 'cifar10' });
  assert.deepEqual(o.budgets, [3e6, 6e6, 9e6]);
  assert.equal(o.space, 'mbv1-small');
  assert.equal(o.steps, 120);
  assert.equal(o.batchSize, 32);
  assert.equal(o.seed, 7);
  assert.equal(o.server, '127.0.0.1:5000');
  assert.equal(o.token, 't');
  assert.equal(o.maxTrainExamples, 1000);
  assert.equal(o.maxTestExamples, 200);
  assert.equal(o.progressInterval, 4);
  assert.deepEqual(o.strategyConfig, { K: 2 });
  assert.equal(o.resume, true);
});

test('dna defaults to the dna-small space', () => {
  assert.equal(run(['--strategy', 'dna']).space, 'dna-small');
});

test('--quick caps steps and uses small subsets', () => {
  const o = run(['--quick', '--steps', '5000']);
  assert.equal(o.steps, QUICK_MAX_STEPS);
  assert.ok(o.maxTrainExamples > 0 && o.maxTestExamples > 0);
  assert.equal(run(['--quick', '--steps', '4']).steps, 4);
});

test('--epochs is kept for the run to turn into steps', () => {
  const o = run(['--epochs', '2']);
  assert.equal(o.epochs, 2);
  assert.equal(o.steps, undefined);
  assert.equal(stepsForEpochs(2, 60000, 64), 1875);
  assert.equal(stepsForEpochs(0.001, 100, 64), 1);
});

test('mistakes name the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--strategy', 'bogus'], /--strategy/],
    [['--steps', '0'], /--steps/],
    [['--steps', '1', '--epochs', '1'], /not both/],
    [['--format', 'png'], /--format/],
    [['--dataset', './x'], /--format/],
    [['--budgets', '3e6,abc'], /--budgets/],
    [['--server', 'nohostport'], /--server/],
    [['--strategy-config', '[1]'], /--strategy-config/],
    [['--bogus'], /bogus/],
  ];
  for (const [argv, re] of cases) assert.throws(() => parseSearchArgs(argv), (e: unknown) => e instanceof UsageError && re.test(e.message), argv.join(' '));
});

test('report subcommand needs runs and out', () => {
  assert.deepEqual(parseSearchArgs(['report', '--runs', 'a, b', '--out', 'c']), { kind: 'report', runs: ['a', 'b'], out: 'c' });
  assert.throws(() => parseSearchArgs(['report', '--out', 'c']), UsageError);
  assert.throws(() => parseSearchArgs(['report', '--runs', 'a']), UsageError);
  assert.equal(parseSearchArgs(['--help']).kind, 'help');
});

test('parseBudgets sorts, dedupes and accepts k/M/G suffixes', () => {
  assert.deepEqual(parseBudgets('6e6, 3M,3000000,500k'), [5e5, 3e6, 6e6]);
  assert.throws(() => parseBudgets('-1'), UsageError);
});

test('--quick cuts post-training searches down unless a strategy config is given', () => {
  assert.deepEqual(run(['--quick', '--strategy', 'cafenet']).strategyConfig, QUICK_STRATEGY_CONFIG.cafenet);
  assert.deepEqual(run(['--quick', '--strategy', 'cafenet', '--strategy-config', '{"K":1}']).strategyConfig, { K: 1 });
  assert.deepEqual(run(['--quick', '--strategy', 'uniform']).strategyConfig, QUICK_STRATEGY_CONFIG.uniform);
  assert.equal(run(['--strategy', 'uniform']).strategyConfig, undefined, 'full runs keep the defaults');
  assert.equal(run(['--strategy', 'cafenet']).strategyConfig, undefined);
});

test('cifar10 data gets a 32x32x3 input unless --space-overrides says otherwise', () => {
  assert.deepEqual(run(['--dataset', '/d', '--format', 'cifar10']).spaceOverrides, { inputShape: [32, 32, 3] });
  assert.deepEqual(run(['--dataset', '/d', '--format', 'cifar10', '--space-overrides', '{"resolutions":[32]}']).spaceOverrides, { resolutions: [32] });
  assert.equal(run(['--dataset', '/d', '--format', 'idx']).spaceOverrides, undefined);
  assert.throws(() => parseSearchArgs(['--space-overrides', 'x']), /--space-overrides/);
});
