import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRun, writeCombinedReport, writeRunReport } from '../src/report.ts';
import { RUN_FILES, RunDir } from '../src/run-dir.ts';
import type { BudgetResult, ProbeRecord, ProgressRecord, RunSummary } from '../src/run-dir.ts';
import { parseXml } from './xml-check.ts';

function budget(target: number, flops: number, accuracy: number): BudgetResult {
  return {
    kind: 'flops', target, subnetId: `sn-${target}`, source: 'pool', score: -0.5,
    architecture: { resolution: 28, widths: { stem: 8 } },
    cost: { flops, params: 1e5, latencyMs: 0 }, accuracy, loss: 0.4, examples: 100,
    exportDir: `budget-${target}`, files: [],
  };
}

async function fakeRun(root: string, strategy: string, accs: number[]): Promise<void> {
  const dir = new RunDir(root);
  await dir.ensure();
  const summary: RunSummary = {
    version: 1, strategy, space: 'mbv2-small', dataset: 'fashion-mnist', experimentId: `e-${strategy}`, backend: 'wasm',
    seed: 0, batchSize: 32, targetStep: 40, stepsDone: 40, quick: true, trainSeconds: 10, totalTrainSeconds: 12,
    finalLosses: { total: 0.5 }, spaceCost: { minFlops: 8e5, maxFlops: 1.18e7 },
    budgets: [budget(3e6, 2.9e6, accs[0]!), budget(6e6, 5.8e6, accs[1]!)], notes: [], finishedAt: '2026-01-01T00:00:00Z',
  };
  await dir.writeJson(RUN_FILES.summary, summary);
  const progress: ProgressRecord[] = [10, 20, 30, 40].map((step) => ({
    step, targetStep: 40, losses: { max: 2 - step / 40, min: 2.2 - step / 40 }, learningRate: 0.05, examplesPerSecond: 100,
    phase: 'train', checkpointStep: 0, elapsedSeconds: step / 4, time: '',
  }));
  await dir.appendJsonl(RUN_FILES.progress, progress);
  const probes: ProbeRecord[] = [0, 20, 40].flatMap((step) => [3e6, 6e6].map((b) => ({ step, budget: b, subnetId: 'x', source: 'pool', score: strategy === 'pss' ? -1 + step / 100 : 0, flops: b, time: '' })));
  await dir.appendJsonl(RUN_FILES.probes, probes);
  await dir.appendJsonl(RUN_FILES.metrics, [{ sequence: 1, subnetId: 'sn-1', values: { accuracy: 0.7 }, clientId: '', time: '' }]);
}

async function checkLinks(dir: string): Promise<string[]> {
  const md = await readFile(join(dir, RUN_FILES.report), 'utf8');
  const svgs = [...md.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
  for (const s of svgs) {
    assert.ok((await stat(join(dir, s))).isFile(), `${s} exists`);
    assert.equal(parseXml(await readFile(join(dir, s), 'utf8')).name, 'svg');
  }
  return svgs;
}

test('run report: tables, well-formed plots that exist, pool scores for pss', async () => {
  const root = await mkdtemp(join(tmpdir(), 'search-report-'));
  try {
    await fakeRun(join(root, 'pss'), 'pss', [0.8, 0.85]);
    const plots = await writeRunReport(await loadRun(join(root, 'pss')));
    const svgs = await checkLinks(join(root, 'pss'));
    assert.deepEqual(svgs, plots);
    assert.ok(svgs.includes('plots/pool-scores.svg'));
    assert.ok(svgs.includes('plots/metric-log.svg'));
    const md = await readFile(join(root, 'pss', RUN_FILES.report), 'utf8');
    assert.match(md, /\| 3\.00M \| `sn-3000000` \(pool\) \| 2\.90M \|.*\| 80\.00% \|/);
    assert.match(md, /\[budget-6000000\/\]\(budget-6000000\/model\.json\)/);

    await fakeRun(join(root, 'uni'), 'uniform', [0.78, 0.86]);
    const uniPlots = await writeRunReport(await loadRun(join(root, 'uni')));
    assert.ok(!uniPlots.includes('plots/pool-scores.svg'), 'no scores, no plot');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('combined report marks the Pareto front across strategies', async () => {
  const root = await mkdtemp(join(tmpdir(), 'search-report-'));
  try {
    await fakeRun(join(root, 'a'), 'pss', [0.8, 0.85]);
    await fakeRun(join(root, 'b'), 'uniform', [0.82, 0.84]);
    const out = join(root, 'combined');
    await writeCombinedReport([await loadRun(join(root, 'a')), await loadRun(join(root, 'b'))], out);
    await checkLinks(out);
    const summary = JSON.parse(await readFile(join(out, RUN_FILES.summary), 'utf8')) as { rows: { strategy: string; target: number; pareto: boolean }[] };
    const front = summary.rows.filter((r) => r.pareto).map((r) => `${r.strategy}@${r.target}`);
    assert.deepEqual(front, ['pss@6000000', 'uniform@3000000']);
    const md = await readFile(join(out, RUN_FILES.report), 'utf8');
    assert.match(md, /\[a\]\(\.\.\/a\/report\.md\)/);
    await assert.rejects(loadRun(join(root, 'missing')), /no summary\.json/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('readJsonl skips a torn last line', async () => {
  const root = await mkdtemp(join(tmpdir(), 'search-report-'));
  try {
    const dir = new RunDir(root);
    await dir.writeAtomic('x.jsonl', '{"a":1}\n{"a":2}\n{"a":');
    assert.deepEqual(await dir.readJsonl('x.jsonl'), [{ a: 1 }, { a: 2 }]);
    await dir.writeAtomic('y.jsonl', '{"a":1}\n{"a\n{"a":2}\n');
    await assert.rejects(dir.readJsonl('y.jsonl'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
