// Benchmark: each search strategy's exported subnets against the uniform and sandwich baselines
// trained for the same steps, and against the same architectures trained alone from scratch.
// Writes docs/results.md and its plots. Usage: npm run bench:search [-- --quick] (see --help).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { status as grpcStatus } from '@grpc/grpc-js';
import { archKey } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { startInProcessServer } from '../src/in-process-server.ts';
import { ProgressBar } from '../src/progress-bar.ts';
import { loadRun, writeCombinedReport } from '../src/report.ts';
import type { RunData } from '../src/report.ts';
import type { BudgetResult } from '../src/run-dir.ts';
import { ApiCallError, SearchApi } from '../src/search-api.ts';
import { parseSearchArgs } from '../src/search-args.ts';
import { runSearch } from '../src/search-run.ts';
import { defaultBudgets, spaceFlopsRange } from '../src/space-costs.ts';
import { PALETTE, renderPlot } from '../src/svg-plot.ts';
import type { PlotSeries } from '../src/svg-plot.ts';
import { trainAlone } from '../src/train-alone.ts';
import type { TrainAloneResult } from '../src/train-alone.ts';

const USAGE = `Usage: npm run bench:search -- [flags]
  --quick                 a few steps on small subsets (checks the pipeline; minutes)
  --steps N               training steps of every run (default 60: about 30 min on 2 shared cores; quick 12)
  --batch-size N          (default 64; quick 16)
  --strategies a,b        searching strategies (default pss,cafenet,dna)
  --baselines a,b         weight-sharing baselines (default uniform,sandwich)
  --max-train N           training examples cap (default 0 = all 60,000; quick 512)
  --max-test N            test examples for Evaluate (default 2000; quick 128)
  --seed N                (default 0)
  --no-alone              skip training the exported architectures alone
  --reuse                 keep finished runs and results found in --out instead of starting over
  --out DIR               run directories (default runs/bench)
  --doc FILE              results page (default docs/results.md; plots beside it in <name>/)
`;

const { values: v } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    steps: { type: 'string' },
    'batch-size': { type: 'string' },
    strategies: { type: 'string' },
    baselines: { type: 'string' },
    'max-train': { type: 'string' },
    'max-test': { type: 'string' },
    seed: { type: 'string' },
    'no-alone': { type: 'boolean' },
    reuse: { type: 'boolean' },
    out: { type: 'string' },
    doc: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (v.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const quick = v.quick ?? false;
const steps = Number(v.steps ?? (quick ? 12 : 60));
const batchSize = Number(v['batch-size'] ?? (quick ? 16 : 64));
const maxTrain = Number(v['max-train'] ?? (quick ? 512 : 0));
const maxTest = Number(v['max-test'] ?? (quick ? 128 : 2000));
const seed = Number(v.seed ?? 0);
const strategies = (v.strategies ?? 'pss,cafenet,dna').split(',').filter(Boolean);
const baselines = (v.baselines ?? 'uniform,sandwich').split(',').filter(Boolean);
const out = resolve(v.out ?? 'runs/bench');
const doc = resolve(v.doc ?? 'docs/results.md');
const plotDir = doc.replace(/\.md$/, '');
const command = `npm run bench:search${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

/** The space a strategy searches: DNA needs op-choice layers (dna-small); the rest share mbv2-small. */
const spaceOf = (strategy: string): string => (strategy === 'dna' ? 'dna-small' : 'mbv2-small');
const budgetsOf = (space: string): number[] => {
  const r = spaceFlopsRange({ preset: space });
  return defaultBudgets(r.minFlops, r.maxFlops);
};
const dataset = { name: 'fashion-mnist', maxTrainExamples: maxTrain, maxTestExamples: maxTest };

/**
 * Strategy configs of the full benchmark, where the defaults are sized for long runs: CafeNet's
 * evolutionary search defaults to 40 x 50 candidates (mmrazor's BCNet values), hours on two cores;
 * here 16 + 4 x 16. --quick uses the CLI's quick configs instead.
 */
const BENCH_CONFIG: Record<string, Record<string, unknown>> = {
  cafenet: { population: 16, topK: 4, generations: 4, mutations: 8, crossovers: 8, recalibrationBatches: 4, validationBatches: 2 },
};

function archOf(b: BudgetResult): Arch {
  const a: Arch = { resolution: b.architecture.resolution, width: { ...b.architecture.widths } };
  if (b.architecture.ops) a.op = { ...b.architecture.ops };
  return a;
}

interface BenchState {
  /** Wall time of every invocation that worked on this --out, summed (so --reuse keeps it). */
  benchSeconds: number;
  inBaseline: Record<string, number>;
  notInBaseline: string[];
  alone: Record<string, TrainAloneResult>;
}
const emptyState = (): BenchState => ({ benchSeconds: 0, inBaseline: {}, notInBaseline: [], alone: {} });

const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const mf = (x: number): string => `${(x / 1e6).toFixed(2)}M`;

async function main(): Promise<void> {
  if (!v.reuse) await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const server = await startInProcessServer(join(out, 'server-data'));
  const api = new SearchApi(server.address);
  const benchStart = performance.now();
  const runs = new Map<string, RunData>();
  // Results of finished phases, so --reuse skips them (deleted experiments cannot be evaluated again).
  const statePath = join(out, 'bench-state.json');
  const state: BenchState = v.reuse
    ? ((await readFile(statePath, 'utf8').then((t) => JSON.parse(t) as BenchState).catch(() => undefined)) ?? emptyState())
    : emptyState();
  const save = (): Promise<void> => writeFile(statePath, `${JSON.stringify(state, null, 2)}\n`);
  const inBaseline = new Map(Object.entries(state.inBaseline));
  const notInBaseline = new Set(state.notInBaseline);
  const alone = new Map(Object.entries(state.alone));
  try {
    /** One supernet run through the shared server (or the finished one found with --reuse). */
    const supernetRun = async (id: string): Promise<RunData> => {
      const space = spaceOf(id);
      const done = v.reuse ? await loadRun(join(out, id)).catch(() => undefined) : undefined;
      if (done) return done;
      await rm(join(out, id), { recursive: true, force: true });
      process.stderr.write(`\n== ${id} on ${space}: ${steps} steps\n`);
      const cmd = parseSearchArgs([
        '--strategy', id, '--space', space, '--steps', String(steps), '--batch-size', String(batchSize),
        '--budgets', budgetsOf(space).join(','), '--max-train', String(maxTrain), '--max-test', String(maxTest),
        '--seed', String(seed), '--server', server.address, '--out', join(out, id), '--progress-interval', String(Math.max(1, Math.round(steps / 50))),
        ...(quick ? ['--quick'] : BENCH_CONFIG[id] ? ['--strategy-config', JSON.stringify(BENCH_CONFIG[id])] : []),
      ]);
      if (cmd.kind !== 'run') throw new Error('unexpected command');
      const code = await runSearch(cmd.options, { stderr: process.stderr, stdout: process.stderr }, startInProcessServer);
      if (code !== 0) throw new Error(`${id} run ended with exit code ${code}`);
      return loadRun(join(out, id));
    };
    // Every experiment keeps a worker (its own TF.js heap and dataset copy) until deleted, so
    // experiments are deleted as soon as nothing needs them: only the baselines stay live.
    const release = async (run: RunData): Promise<void> => {
      await api.deleteExperiment(run.summary.experimentId).catch(() => undefined);
    };

    // 1. The baselines on each searched space, kept live for step 2.
    for (const b of baselines) {
      if (strategies.some((s) => spaceOf(s) === spaceOf(b))) runs.set(b, await supernetRun(b));
    }
    for (const s of strategies) {
      const run = await supernetRun(s);
      runs.set(s, run);
      // 2. Each searched subnet evaluated in the baselines' supernets (same space, same steps).
      for (const b of baselines) {
        const base = runs.get(b);
        if (!base || base.summary.space !== run.summary.space) continue;
        for (const r of run.summary.budgets) {
          const key = `${s}|${r.target}|${b}`;
          if (inBaseline.has(key) || notInBaseline.has(s)) continue;
          const a = archOf(r);
          try {
            const ev = await api.evaluate({
              experimentId: base.summary.experimentId,
              target: { case: 'architecture', value: { resolution: a.resolution, widths: a.width, ops: a.op ?? {} } },
              maxExamples: maxTest,
            });
            inBaseline.set(key, ev.accuracy);
            state.inBaseline[key] = ev.accuracy;
          } catch (err) {
            // CafeNet's FLOPs-sensitive bins give widths the slimmable supernets do not have.
            if (!(err instanceof ApiCallError && err.code === grpcStatus.INVALID_ARGUMENT)) throw err;
            notInBaseline.add(s);
            state.notInBaseline = [...notInBaseline];
          }
        }
      }
      await save();
      await release(run);
    }
    for (const b of baselines) {
      const run = runs.get(b);
      if (run) await release(run);
    }

    // 3. The same architectures trained alone from scratch for the same steps.
    const aloneByArch = new Map<string, TrainAloneResult>();
    if (!v['no-alone']) {
      for (const s of strategies) {
        const run = runs.get(s)!;
        for (const r of run.summary.budgets) {
          const a = archOf(r);
          const key = `${run.summary.space}|${archKey(a)}`;
          if (alone.has(`${s}|${r.target}`)) continue;
          let res = aloneByArch.get(key);
          if (!res) {
            process.stderr.write(`\n== ${s} ${mf(r.target)} subnet trained alone: ${steps} steps\n`);
            const bar = new ProgressBar(process.stderr, Math.max(1, Math.round(steps / 10)));
            res = await trainAlone(api, a, {
              space: { preset: run.summary.space },
              steps,
              batchSize,
              seed,
              dataset,
              maxTestExamples: maxTest,
              progressInterval: Math.max(1, Math.round(steps / 50)),
              onProgress: (step, target) => bar.update({ step, targetStep: target, losses: {} }),
              deleteAfter: true,
            });
            bar.finish();
            aloneByArch.set(key, res);
          }
          alone.set(`${s}|${r.target}`, res);
          state.alone[`${s}|${r.target}`] = res;
          await save();
        }
      }
    }
    state.benchSeconds = (state.benchSeconds ?? 0) + (performance.now() - benchStart) / 1000;
    await save();
    const benchSeconds = state.benchSeconds;

    // 4. Combined report of the runs, then the results page.
    await writeCombinedReport([...runs.values()], join(out, 'combined'));
    await writeDoc(runs, inBaseline, notInBaseline, alone, benchSeconds);
    process.stderr.write(`\nwrote ${doc} (bench wall time ${(benchSeconds / 60).toFixed(1)} min)\n`);
  } finally {
    api.close();
    await server.stop();
  }
}

async function writeDoc(
  runs: Map<string, RunData>,
  inBaseline: Map<string, number>,
  notInBaseline: Set<string>,
  alone: Map<string, TrainAloneResult>,
  benchSeconds: number,
): Promise<void> {
  await mkdir(plotDir, { recursive: true });
  const rel = (f: string): string => relative(resolve(doc, '..'), join(plotDir, f)).split('\\').join('/');
  const anyRun = [...runs.values()][0];
  const md: string[] = [];
  md.push('# Results: search strategies on Fashion-MNIST', '');
  md.push(
    'Each strategy trains a weight-sharing supernet for the same number of steps through the service\'s own gRPC API ' +
      '(`supernetd search` flow: CreateExperiment, Train, ExportSubnet per FLOPs budget, Evaluate after BN recalibration). ' +
      'Its exported subnets are compared with (a) the same architectures evaluated inside the uniform (SPOS) and sandwich ' +
      'supernets trained for the same steps, and (b) the same architectures trained alone from scratch for the same steps ' +
      '(an experiment on a `custom` space whose only subnet is that architecture).',
    '',
  );
  md.push('```', command, '```', '');
  md.push(
    `- Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, TensorFlow.js backend \`${anyRun?.summary.backend ?? '?'}\`.`,
  );
  md.push(
    `- ${steps} steps per run, batch ${batchSize}, seed ${seed}, training examples ${maxTrain || 'all (60,000)'}, ` +
      `test examples per evaluation ${maxTest || 'all (10,000)'}${quick ? '; **--quick**: checks the pipeline, the accuracies mean nothing' : ''}.`,
  );
  md.push(`- Whole benchmark wall time: ${(benchSeconds / 60).toFixed(1)} min.`);
  md.push(
    `- Strategy configs: defaults, except ${Object.entries(quick ? {} : BENCH_CONFIG).map(([k, c]) => `${k} \`${JSON.stringify(c)}\``).join(', ') || 'the --quick configs of `supernetd search`'}.`,
    '',
  );

  md.push('## Searched subnets', '');
  md.push(
    `| space | budget | strategy | FLOPs | params | inherited | in ${baselines.join(' supernet | in ')} supernet | trained alone |`,
    `| --- | ---: | --- | ---: | ---: | ---: |${baselines.map(() => ' ---: |').join('')} ---: |`,
  );
  for (const s of strategies) {
    const run = runs.get(s)!;
    for (const r of run.summary.budgets) {
      const cells = baselines.map((b) => pct(inBaseline.get(`${s}|${r.target}|${b}`)));
      md.push(
        `| ${run.summary.space} | ${mf(r.target)} | ${s} | ${mf(r.cost.flops)} | ${(r.cost.params / 1e3).toFixed(1)}k | ${pct(r.accuracy)} | ${cells.join(' | ')} | ${pct(alone.get(`${s}|${r.target}`)?.accuracy)} |`,
      );
    }
  }
  md.push('', 'Accuracy is top-1 on the test examples after batch-norm recalibration; "inherited" is the strategy\'s own supernet.', '');

  md.push('## Baselines\' own deploy choices', '');
  md.push('| space | budget | strategy | subnet | FLOPs | test accuracy |', '| --- | ---: | --- | --- | ---: | ---: |');
  for (const b of baselines) {
    const run = runs.get(b);
    if (!run) continue;
    for (const r of run.summary.budgets) md.push(`| ${run.summary.space} | ${mf(r.target)} | ${b} | \`${r.subnetId}\` (${r.source}) | ${mf(r.cost.flops)} | ${pct(r.accuracy)} |`);
  }
  md.push('');

  md.push('## Wall time: one supernet run vs the three subnets trained alone', '');
  md.push('| strategy | supernet training | three subnets alone | supernet / alone |', '| --- | ---: | ---: | ---: |');
  for (const id of [...strategies, ...baselines]) {
    const run = runs.get(id);
    if (!run) continue;
    const sum = strategies.includes(id)
      ? run.summary.budgets.reduce((acc, r) => acc + (alone.get(`${id}|${r.target}`)?.trainSeconds ?? NaN), 0)
      : NaN;
    const ratio = Number.isFinite(sum) ? `${(run.summary.totalTrainSeconds / sum).toFixed(2)}x` : 'n/a';
    md.push(`| ${id} | ${run.summary.totalTrainSeconds.toFixed(1)} s | ${Number.isFinite(sum) ? `${sum.toFixed(1)} s` : 'n/a'} | ${ratio} |`);
  }
  md.push('', 'Train-call wall time only (no dataset load, export or evaluation), runs one after another on the same server.', '');

  // Plots: accuracy vs FLOPs per space, and training loss.
  md.push('## Plots', '');
  for (const space of [...new Set(strategies.map(spaceOf))]) {
    const series: PlotSeries[] = [];
    [...strategies, ...baselines].forEach((id, i) => {
      const run = runs.get(id);
      if (!run || run.summary.space !== space) return;
      const color = PALETTE[i % PALETTE.length]!;
      const pts = [...run.summary.budgets].sort((a, b) => a.cost.flops - b.cost.flops);
      series.push({ name: `${id} (inherited)`, kind: 'line-markers', color, points: pts.map((r) => [r.cost.flops, r.accuracy] as const) });
      if (strategies.includes(id) && alone.size > 0) {
        series.push({
          name: `${id} (alone)`,
          kind: 'line-markers',
          dashed: true,
          color,
          points: pts.flatMap((r) => {
            const a = alone.get(`${id}|${r.target}`);
            return a ? [[r.cost.flops, a.accuracy] as const] : [];
          }),
        });
      }
    });
    const file = `accuracy-vs-flops-${space}.svg`;
    await writeFile(join(plotDir, file), renderPlot({ title: `Test accuracy vs FLOPs (${space})`, xLabel: 'FLOPs (multiply-accumulates per image)', yLabel: 'test accuracy', series }));
    md.push(`![Test accuracy vs FLOPs, ${space}](${rel(file)})`, '');
  }
  const lossSeries: PlotSeries[] = [...runs.entries()].map(([id, run]) => ({
    name: id,
    kind: 'line' as const,
    points: run.progress.map((p) => [p.step, p.losses.total ?? Object.values(p.losses)[0] ?? NaN] as const),
  }));
  await writeFile(join(plotDir, 'training-loss.svg'), renderPlot({ title: 'Training loss (total)', xLabel: 'step', yLabel: 'loss', series: lossSeries }));
  md.push(`![Training loss](${rel('training-loss.svg')})`, '');
  const pss = runs.get('pss');
  if (pss && pss.probes.some((p) => p.score !== 0)) {
    const budgets = [...new Set(pss.probes.map((p) => p.budget))];
    await writeFile(
      join(plotDir, 'pss-pool-scores.svg'),
      renderPlot({
        title: 'PSS pool scores over training',
        xLabel: 'step',
        yLabel: 'score of the pool\'s best subnet',
        series: budgets.map((b) => ({ name: `pool ${mf(b)}`, kind: 'line-markers' as const, points: pss.probes.filter((p) => p.budget === b).map((p) => [p.step, p.score] as const) })),
      }),
    );
    md.push(`![PSS pool scores](${rel('pss-pool-scores.svg')})`, '');
  }

  md.push('## Reproduce', '');
  md.push('- This page: `npm run bench:search` (`-- --quick` checks the pipeline in a few minutes; `-- --help` lists the knobs).');
  md.push(
    '- One search with its own report: `supernetd search --strategy pss --out runs/pss` (until the main CLI dispatches `search`: ' +
      '`node --import tsx services/search/src/cli.ts --strategy pss --out runs/pss`); Ctrl-C stops cleanly and `--resume` continues.',
  );
  md.push('- A combined report with the Pareto front across runs: `supernetd search report --runs runs/bench/pss,runs/bench/cafenet,runs/bench/uniform --out runs/compare`.', '');
  md.push('## Notes', '');
  md.push(
    '- DNA trains its student block by block against the teacher\'s features; its exported subnets are meant to be retrained (algorithms.md 6.7), so for DNA the "trained alone" column is the result and "inherited" only shows what the distilled blocks give without retraining.',
  );
  md.push('- DNA searches op choices, so it runs on `dna-small` (its own FLOPs range and budgets); the baselines run on `mbv2-small`, so DNA is compared with its subnets trained alone only.');
  md.push(
    '- CafeNet subnets keep explicit channel indices; trained alone, the same widths are used leftmost (equivalent for a network trained from scratch).' +
      (notInBaseline.size > 0
        ? ` ${[...notInBaseline].join(', ')} subnets have widths outside the slimmable width set of the baselines' supernets (CafeNet's FLOPs-sensitive bins), so they cannot be evaluated there (n/a).`
        : ''),
  );
  md.push('- The baselines\' own deploy choice is what their strategy returns for the budget (uniform and sandwich: a random subnet that fits, or the best one reported back); the columns "in uniform/sandwich supernet" compare the supernets\' training on the same architectures instead.');
  md.push('- PSS pool scores come from SampleSubnet (purpose DEPLOY) probes during training: the API streams no pool contents. DNA per-block candidate ratings are not exposed by the API and are not plotted.');
  md.push(`- Run directories with each run's report, metric log and exported TF.js models: \`${relative(process.cwd(), out) || '.'}/<strategy>/\`; combined report: \`${relative(process.cwd(), join(out, 'combined'))}/report.md\`.`);
  md.push('');
  await writeFile(doc, md.join('\n'));
}

await main();
