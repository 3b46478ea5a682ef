import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { paretoFront } from './pareto.ts';
import { headlineLoss } from './progress-bar.ts';
import { RUN_FILES, RunDir } from './run-dir.ts';
import type { BudgetResult, MetricLine, ProbeRecord, ProgressRecord, RunSummary } from './run-dir.ts';
import { renderLineChart, siLabel } from './charts.ts';
import type { PlotSeries } from './charts.ts';

/** Everything a report is built from: one run directory's files. */
export interface RunData {
  dir: RunDir;
  summary: RunSummary;
  progress: ProgressRecord[];
  probes: ProbeRecord[];
  metrics: MetricLine[];
}

/** Reads a finished run directory. Throws when summary.json is missing (the run did not finish). */
export async function loadRun(root: string): Promise<RunData> {
  const dir = new RunDir(root);
  const summary = await dir.readJson<RunSummary>(RUN_FILES.summary);
  if (!summary) throw new Error(`run directory '${root}' has no ${RUN_FILES.summary} (did the run finish?)`);
  return {
    dir,
    summary,
    progress: await dir.readJsonl<ProgressRecord>(RUN_FILES.progress),
    probes: await dir.readJsonl<ProbeRecord>(RUN_FILES.probes),
    metrics: await dir.readJsonl<MetricLine>(RUN_FILES.metrics),
  };
}

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
const mflops = (v: number): string => `${(v / 1e6).toFixed(2)}M`;

/** Keeps at most `max` points by averaging consecutive groups, so long runs stay readable. */
export function downsample(points: readonly (readonly [number, number])[], max = 200): [number, number][] {
  if (points.length <= max) return points.map(([x, y]) => [x, y]);
  const group = Math.ceil(points.length / max);
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i += group) {
    const g = points.slice(i, i + group);
    out.push([g[g.length - 1]![0], g.reduce((a, p) => a + p[1], 0) / g.length]);
  }
  return out;
}

/** Training-loss series: one per loss name of the run. */
function lossSeries(progress: readonly ProgressRecord[]): PlotSeries[] {
  const names = [...new Set(progress.flatMap((p) => Object.keys(p.losses)))].sort();
  return names.map((name) => ({
    name,
    kind: 'line' as const,
    points: downsample(progress.filter((p) => p.losses[name] !== undefined).map((p) => [p.step, p.losses[name]!] as const)),
  }));
}

/** Strategy score of each budget's deploy choice over training steps (one series per budget). */
function probeSeries(probes: readonly ProbeRecord[]): PlotSeries[] {
  const budgets = [...new Set(probes.map((p) => p.budget))].sort((a, b) => a - b);
  return budgets.map((b) => ({
    name: `budget ${siLabel(b)}`,
    kind: 'line-markers' as const,
    points: probes.filter((p) => p.budget === b).map((p) => [p.step, p.score] as const),
  }));
}

function hasScores(probes: readonly ProbeRecord[]): boolean {
  return probes.some((p) => p.score !== 0);
}

function accuracySeries(name: string, budgets: readonly BudgetResult[]): PlotSeries {
  return {
    name,
    kind: 'line-markers',
    points: [...budgets].sort((a, b) => a.cost.flops - b.cost.flops).map((b) => [b.cost.flops, b.accuracy] as const),
  };
}

function budgetTable(budgets: readonly BudgetResult[], linkBase: string): string[] {
  const rows = [
    '| FLOPs target | subnet | FLOPs | params | resolution | test accuracy | test loss | examples | model |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const b of budgets) {
    const link = join(linkBase, b.exportDir, 'model.json').split('\\').join('/');
    rows.push(
      `| ${mflops(b.target)} | \`${b.subnetId}\` (${b.source}) | ${mflops(b.cost.flops)} | ${(b.cost.params / 1e3).toFixed(1)}k | ${b.architecture.resolution} | ${pct(b.accuracy)} | ${b.loss.toFixed(4)} | ${b.examples} | [${b.exportDir}/](${link}) |`,
    );
  }
  return rows;
}

async function writePlot(dir: string, name: string, svg: string): Promise<string> {
  await mkdir(join(dir, RUN_FILES.plots), { recursive: true });
  await writeFile(join(dir, RUN_FILES.plots, name), svg);
  return `${RUN_FILES.plots}/${name}`;
}

/** The DNA ratings note: the API has no call that returns per-block candidate ratings. */
export const DNA_RATINGS_NOTE =
  'DNA per-block candidate ratings are not plotted: the supernetd.v1 API exposes no per-block ratings (only the deploy choice per budget and its score).';

/**
 * Writes `plots/*.svg` and `report.md` for one run into its directory. Returns the plot paths,
 * relative to the run directory.
 */
export async function writeRunReport(run: RunData): Promise<string[]> {
  const s = run.summary;
  const root = run.dir.root;
  const plots: string[] = [];
  const md: string[] = [];
  md.push(`# Search report: ${s.strategy} on ${s.dataset}`, '');
  md.push(
    `Experiment \`${s.experimentId}\`, space \`${s.space}\`, backend \`${s.backend}\`, seed ${s.seed}, batch ${s.batchSize}, ` +
      `${s.stepsDone}/${s.targetStep} steps${s.quick ? ' (**--quick**: checks the pipeline, accuracy is not meaningful)' : ''}.`,
    '',
  );
  const sps = s.totalTrainSeconds > 0 ? ` (${(s.stepsDone / s.totalTrainSeconds).toFixed(2)} steps/s)` : '';
  md.push(`Training wall time: ${s.totalTrainSeconds.toFixed(1)} s${sps}. Space cost range: ${mflops(s.spaceCost.minFlops)} to ${mflops(s.spaceCost.maxFlops)} FLOPs.`, '');
  md.push('## Subnets per budget', '', 'Test accuracy after batch-norm recalibration, weights inherited from the supernet.', '');
  md.push(...budgetTable(s.budgets, '.'), '');

  const acc = await renderLineChart({
    title: `Test accuracy vs FLOPs (${s.strategy})`,
    xLabel: 'FLOPs (multiply-accumulates per image)',
    yLabel: 'test accuracy',
    series: [accuracySeries(s.strategy, s.budgets)],
  });
  plots.push(await writePlot(root, 'accuracy-vs-flops.svg', acc));
  md.push('## Plots', '', `![Test accuracy vs FLOPs](${plots[plots.length - 1]})`, '');

  const loss = await renderLineChart({
    title: 'Training loss',
    xLabel: 'step',
    yLabel: 'loss (last step of each progress event)',
    series: lossSeries(run.progress),
    emptyText: 'no progress events recorded',
  });
  plots.push(await writePlot(root, 'training-loss.svg', loss));
  md.push(`![Training loss](${plots[plots.length - 1]})`, '');

  const notes = [...s.notes];
  if (hasScores(run.probes)) {
    const scores = await renderLineChart({
      title: s.strategy === 'pss' ? 'PSS pool scores over training' : `${s.strategy} deploy-choice scores over training`,
      xLabel: 'step',
      yLabel: 'score of the deploy choice (higher is better)',
      series: probeSeries(run.probes),
    });
    plots.push(await writePlot(root, 'pool-scores.svg', scores));
    md.push(`![Pool scores](${plots[plots.length - 1]})`, '');
    if (s.strategy === 'pss') {
      notes.push(
        'Pool scores: the API streams no pool contents, so the plot shows the score SampleSubnet (purpose DEPLOY) returned for each budget at each probe: the priority of the best subnet of that pool.',
      );
    }
  } else if (s.strategy === 'pss') {
    notes.push('Pool scores: SampleSubnet returned no scores during training, so no pool-score plot was drawn.');
  }

  const metricPoints = run.metrics.filter((m) => m.values.accuracy !== undefined);
  if (metricPoints.length > 0) {
    const metricPlot = await renderLineChart({
      title: 'Metric log (ReportMetric / Evaluate)',
      xLabel: 'metric sequence',
      yLabel: 'accuracy',
      series: [{ name: 'accuracy', kind: 'scatter', points: metricPoints.map((m) => [m.sequence, m.values.accuracy!] as const) }],
    });
    plots.push(await writePlot(root, 'metric-log.svg', metricPlot));
    md.push(`![Metric log](${plots[plots.length - 1]})`, '');
  }
  if (s.strategy === 'dna') notes.push(DNA_RATINGS_NOTE);

  md.push('## Architectures', '');
  for (const b of s.budgets) {
    md.push(`- ${mflops(b.target)}: \`${JSON.stringify(b.architecture)}\``);
  }
  md.push('', '## Files', '');
  md.push(
    `- \`${RUN_FILES.summary}\`: machine-readable results; \`${RUN_FILES.metrics}\`: the experiment's metric log; ` +
      `\`${RUN_FILES.progress}\`: training progress events; \`${RUN_FILES.probes}\`: deploy choices sampled during training.`,
  );
  md.push('- `budget-<target>/`: `model.json` + `weights.bin` (load with `tf.loadLayersModel`) and `arch.json`.');
  if (notes.length > 0) md.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  md.push('');
  await writeFile(join(root, RUN_FILES.report), md.join('\n'));
  return plots;
}

function runLabel(run: RunData, all: readonly RunData[]): string {
  const same = all.filter((r) => r.summary.strategy === run.summary.strategy).length;
  return same > 1 ? `${run.summary.strategy} (${basename(run.dir.root)})` : run.summary.strategy;
}

/**
 * Builds a report across runs (`supernetd search report --runs ...`): accuracy vs FLOPs per run with
 * the Pareto front across all of them, training-loss curves, and pool scores where present.
 * Writes `report.md`, `summary.json` (the combined rows and the front) and `plots/` into `outDir`.
 */
export async function writeCombinedReport(runs: readonly RunData[], outDir: string): Promise<string[]> {
  const out = resolve(outDir);
  await mkdir(out, { recursive: true });
  const plots: string[] = [];
  const rows = runs.flatMap((r) => r.summary.budgets.map((b) => ({ run: r, label: runLabel(r, runs), budget: b, cost: b.cost.flops, accuracy: b.accuracy })));
  const front = paretoFront(rows);

  const series: PlotSeries[] = runs.map((r) => accuracySeries(runLabel(r, runs), r.summary.budgets));
  series.push({ name: 'Pareto front', kind: 'step', dashed: true, color: '#555555', points: front.map((f) => [f.cost, f.accuracy] as const) });
  plots.push(
    await writePlot(
      out,
      'accuracy-vs-flops.svg',
      await renderLineChart({ title: 'Test accuracy vs FLOPs', xLabel: 'FLOPs (multiply-accumulates per image)', yLabel: 'test accuracy', series }),
    ),
  );
  plots.push(
    await writePlot(
      out,
      'training-loss.svg',
      await renderLineChart({
        title: 'Training loss',
        xLabel: 'step',
        yLabel: 'loss (total, or mean of the step losses)',
        series: runs.map((r) => ({
          name: runLabel(r, runs),
          kind: 'line' as const,
          points: downsample(
            r.progress.flatMap((p) => {
              const l = headlineLoss(p.losses);
              return l === undefined ? [] : [[p.step, l] as const];
            }),
          ),
        })),
        emptyText: 'no progress events recorded',
      }),
    ),
  );
  const scored = runs.filter((r) => hasScores(r.probes));
  if (scored.length > 0) {
    plots.push(
      await writePlot(
        out,
        'pool-scores.svg',
        await renderLineChart({
          title: 'Deploy-choice scores over training (PSS: pool priority)',
          xLabel: 'step',
          yLabel: 'score',
          series: scored.flatMap((r) => probeSeries(r.probes).map((s) => ({ ...s, name: `${runLabel(r, runs)} ${s.name}` }))),
        }),
      ),
    );
  }

  const md: string[] = ['# Search report: strategies compared', ''];
  md.push('| run | strategy | space | steps | train time | backend |', '| --- | --- | --- | ---: | ---: | --- |');
  for (const r of runs) {
    const rel = relative(out, r.dir.root) || '.';
    md.push(
      `| [${basename(r.dir.root)}](${rel}/${RUN_FILES.report}) | ${r.summary.strategy} | ${r.summary.space} | ${r.summary.stepsDone} | ${r.summary.totalTrainSeconds.toFixed(1)} s | ${r.summary.backend} |`,
    );
  }
  md.push('', '## Subnets', '');
  md.push('| run | FLOPs target | FLOPs | params | test accuracy | Pareto |', '| --- | ---: | ---: | ---: | ---: | :---: |');
  for (const row of rows) {
    md.push(
      `| ${row.label} | ${mflops(row.budget.target)} | ${mflops(row.cost)} | ${(row.budget.cost.params / 1e3).toFixed(1)}k | ${pct(row.accuracy)} | ${front.includes(row) ? 'yes' : ''} |`,
    );
  }
  md.push('', '## Plots', '');
  for (const p of plots) md.push(`![${basename(p, '.svg')}](${p})`, '');
  const notes: string[] = [];
  if (runs.some((r) => r.summary.quick)) notes.push('Some runs used --quick: their accuracies check the pipeline and are not comparable results.');
  if (runs.some((r) => r.summary.strategy === 'dna')) notes.push(DNA_RATINGS_NOTE);
  if (notes.length > 0) md.push('## Notes', '', ...notes.map((n) => `- ${n}`), '');
  await writeFile(join(out, RUN_FILES.report), md.join('\n'));
  await writeFile(
    join(out, RUN_FILES.summary),
    `${JSON.stringify(
      {
        runs: runs.map((r) => ({ dir: r.dir.root, strategy: r.summary.strategy })),
        rows: rows.map((r) => ({ run: r.run.dir.root, strategy: r.run.summary.strategy, target: r.budget.target, flops: r.cost, accuracy: r.accuracy, pareto: front.includes(r) })),
      },
      null,
      2,
    )}\n`,
  );
  return plots;
}
