// Writes the results page from the benchmark cache: deploy choices per budget (mean ± std over
// seeds), the stated claims checked against the noise, and the ranking correlations, each with a
// figure (vega-lite, rendered to SVG beside the page): mean ± std per method with the references
// (architectures trained alone, the FLOPs count's ranking) in the same figure.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Arch } from '@supernetd/sdk';
import { renderSeededChart } from '../../src/charts.ts';
import type { SeededChart, SeededSeries } from '../../src/charts.ts';
import { kendallTau, meanStd, spearmanRho } from '../../src/rank-stats.ts';
import { METHODS, OPS_SPACE_DEFINITION, PASSES_PER_STEP, WIDTH_SPACE_DEFINITION, aloneKey, archLabel, budgets, supernetKey } from './harness.ts';
import type { BenchSettings, ResultCache, SpaceKind, SupernetRun } from './harness.ts';

const pct = (x: number) => (x * 100).toFixed(2);
const pm = (xs: number[]) => {
  const r = meanStd(xs);
  return xs.length === 0 ? 'n/a' : `${pct(r.mean)} ± ${pct(r.std)}`;
};
const kflops = (x: number) => `${(x / 1000).toFixed(0)}k`;
/** The x category of a budget in the figures. */
const budgetLabel = (b: number) => `≤ ${kflops(b)} FLOPs`;

/** The reference drawn beside the deploy choices (the ranking section says how they were trained). */
const ALONE_REFERENCE = 'trained alone: best ranking architecture within the budget (seed 0)';

/** The folder of the page's figures: beside the page, named after it (docs/results.md: docs/results/). */
export function figureDir(doc: string): string {
  return join(dirname(doc), basename(doc, '.md'));
}

/** Renders `chart` into the page's figure folder and links it from the page. */
async function figure(L: string[], doc: string, file: string, alt: string, chart: SeededChart): Promise<void> {
  const dir = figureDir(doc);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), await renderSeededChart(chart));
  L.push(`![${alt}](${basename(dir)}/${file})`);
  L.push('');
}

/**
 * Per budget, the best test accuracy (percent) among the ranking architectures of `kind` trained
 * alone whose FLOPs fit the budget: what the budget buys without weight sharing.
 */
function bestAloneWithin(r: RenderInput, kind: SpaceKind, bs: number[]): Record<string, number> {
  const alone = r.rankingArchs[kind].map((a) => r.cache.alone[aloneKey(a, 0, r.settings, kind)]).filter((x) => x !== undefined);
  const out: Record<string, number> = {};
  for (const b of bs) {
    const fit = alone.filter((a) => a.flops <= b).map((a) => a.accuracy * 100);
    if (fit.length > 0) out[budgetLabel(b)] = Math.max(...fit);
  }
  return out;
}

/**
 * Whether mean(a) - mean(b) is outside the noise: more than twice its standard error
 * (Welch, sqrt(sa²/na + sb²/nb)). With 3 seeds this is a coarse filter, not a significance test.
 */
function verdict(a: number[], b: number[]): { diff: number; se: number; outside: boolean } {
  const ra = meanStd(a);
  const rb = meanStd(b);
  const se = Math.sqrt(ra.std ** 2 / Math.max(1, ra.n) + rb.std ** 2 / Math.max(1, rb.n));
  const diff = ra.mean - rb.mean;
  return { diff, se, outside: Math.abs(diff) > 2 * se };
}

function describe(name: string, a: number[], other: string, b: number[]): string {
  if (a.length === 0 || b.length === 0) return `${name} vs ${other}: not run`;
  const v = verdict(a, b);
  if (a.length < 2 || b.length < 2) return `${name} − ${other}: ${v.diff >= 0 ? '+' : '−'}${pct(Math.abs(v.diff))} pt (one seed: no noise estimate)`;
  const sign = v.diff >= 0 ? '+' : '−';
  const where = v.outside ? (v.diff > 0 ? `${name} ahead, outside the noise` : `${name} behind, outside the noise`) : 'inside the noise';
  return `${name} − ${other}: ${sign}${pct(Math.abs(v.diff))} pt (2 s.e. ${pct(2 * v.se)} pt): ${where}`;
}

export interface RenderInput {
  doc: string;
  cache: ResultCache;
  settings: BenchSettings;
  rankingArchs: Record<SpaceKind, Arch[]>;
  machine: string;
  quick: boolean;
}

export async function renderResults(r: RenderInput): Promise<void> {
  const { cache, settings } = r;
  const runsOf = (method: string): SupernetRun[] =>
    settings.seeds.map((seed) => cache.supernets[supernetKey(METHODS[method]!, seed, settings)]).filter((x): x is SupernetRun => x !== undefined);
  const bs = budgets();
  const L: string[] = [];
  L.push('# Results: do the searches work?');
  L.push('');
  L.push(
    'Every number on this page comes from the service itself, over gRPC: an in-process server, one experiment per supernet, `Train`, then `Evaluate` by FLOPs constraint (which runs the strategy\'s own search and deploys its choice) or by architecture. Accuracy is top-1 on the Fashion-MNIST test split after batch-norm recalibration.',
  );
  L.push('');
  L.push('```');
  L.push('npm run bench:search     # supernets of every method and seed, deploy choices per budget');
  L.push('npm run bench:ranking    # the ranking architectures trained alone, then rank correlations');
  L.push('```');
  L.push('');
  L.push('## Setup');
  L.push('');
  L.push(`- Machine: ${r.machine}; backend \`wasm\`; ${settings.parallel} experiments trained at once (one worker thread each).`);
  const d = WIDTH_SPACE_DEFINITION;
  L.push(
    `- Space \`${d.name}\` (defined in \`services/runner/bench/quality/harness.ts\`): a MobileNetV1-style net, stem conv 3x3 stride 2 then four depthwise-separable layers; widths ${d.widths.map((w) => `${w.id} ∈ {${w.candidates.join(', ')}}`).join(', ')}; resolutions {${d.resolutions.join(', ')}}; ${4 ** d.widths.length * d.resolutions.length} subnets.`,
  );
  L.push(`- Data: Fashion-MNIST, ${settings.maxTrain || 'all'} training images (5,000 held out for the strategies' validation), test on ${settings.maxTest || 'all 10,000'} test images.`);
  L.push(
    `- **Equal compute**: every supernet gets ${settings.passes} forward/backward passes at batch ${settings.batchSize} (about ${((settings.passes * settings.batchSize) / 55000).toFixed(1)} epochs of single-path training). Steps = passes / passes per step: ${Object.entries(PASSES_PER_STEP)
      .map(([m, p]) => `${m} ${p.backward}${p.forwardOnly ? ` (+${p.forwardOnly} forward-only, not counted)` : ''}`)
      .join(', ')}. Every method uses the service's default strategy config and the default optimiser (SGD, Nesterov momentum 0.9, lr 0.05, weight decay 1e-4, cosine over the run, no warm-up).`,
  );
  L.push(`- **Same selection rule**: each method's deploy choice at a budget is whatever its own search returns with default settings on held-out training images (never the test split); the table reports that subnet's test accuracy.`);
  L.push(`- Seeds: ${settings.seeds.join(', ')}; mean ± sample std over seeds. A difference is called outside the noise when it exceeds twice its standard error; with ${settings.seeds.length} seeds that is a coarse filter, not a significance test.`);
  L.push(`- Budgets (FLOPs, multiply-adds): ${bs.map(kflops).join(', ')} (a quarter, half and three quarters of the space's range).`);
  L.push('- Figures: per method the mean over seeds (point) and ± one sample std (error bar); dark grey ticks are the references drawn in the same figure (the best ranking architecture trained alone within the budget; the FLOPs count\'s rank correlation). They are redrawn from the cache with `npm run bench:search -- --render-only`.');
  if (r.quick) L.push('- **Quick run**: pipeline check only; the numbers mean nothing.');
  L.push('');

  L.push('## Deploy choices at equal compute (`npm run bench:search`)');
  L.push('');
  L.push(`| method | ${bs.map((b) => `≤ ${kflops(b)}: test acc`).join(' | ')} | ${bs.map((b) => `≤ ${kflops(b)}: FLOPs`).join(' | ')} | seeds | train s (mean) | search s (mean) |`);
  L.push(`| --- | ${bs.map(() => '---:').join(' | ')} | ${bs.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`);
  for (const m of Object.keys(METHODS).filter((k) => METHODS[k]!.space === undefined)) {
    const runs = runsOf(m);
    if (runs.length === 0) continue;
    const accs = bs.map((b) => pm(runs.map((x) => x.deploy[String(b)]?.accuracy ?? NaN)));
    const flops = bs.map((b) => kflops(meanStd(runs.map((x) => x.deploy[String(b)]?.flops ?? NaN)).mean));
    const search = meanStd(runs.flatMap((x) => Object.values(x.deploy).map((dd) => dd.searchSeconds))).mean;
    L.push(`| ${m} | ${accs.join(' | ')} | ${flops.join(' | ')} | ${runs.length} | ${meanStd(runs.map((x) => x.trainSeconds)).mean.toFixed(0)} | ${search.toFixed(1)} |`);
  }
  L.push('');
  L.push('Wall times are per experiment with two experiments sharing the two cores; they are not a speed comparison.');
  L.push('');
  const widthMethods = Object.keys(METHODS).filter((k) => METHODS[k]!.space === undefined && runsOf(k).length > 0);
  if (widthMethods.length > 0) {
    const aloneRef = bestAloneWithin(r, 'width', bs);
    await figure(L, r.doc, 'deploy-width.svg', 'Deploy choices per budget, mean ± std over seeds, with the best ranking architecture trained alone within each budget', {
      title: `Deploy choices at equal compute (${WIDTH_SPACE_DEFINITION.name}), mean ± std over seeds`,
      categories: bs.map(budgetLabel),
      xLabel: 'FLOPs budget',
      yLabel: 'test accuracy (%)',
      series: widthMethods.map((m) => ({ name: m, values: Object.fromEntries(bs.map((b) => [budgetLabel(b), runsOf(m).map((x) => (x.deploy[String(b)]?.accuracy ?? NaN) * 100)])) })),
      references: Object.keys(aloneRef).length > 0 ? [{ name: ALONE_REFERENCE, byCategory: aloneRef }] : [],
    });
  }
  L.push('### The claims, budget by budget');
  L.push('');
  const acc = (m: string, b: number) => runsOf(m).map((x) => x.deploy[String(b)]?.accuracy ?? NaN);
  for (const b of bs) {
    const pairs: [string, string, string, string][] = [
      ['pss', 'pss', 'sandwich', 'sandwich'],
      ['sandwich', 'sandwich', 'uniform', 'uniform'],
      ['pss', 'pss', 'uniform', 'uniform'],
      ['cafenet (free)', 'cafenet', 'leftmost', 'cafenet-leftmost'],
    ];
    L.push(`- ≤ ${kflops(b)}: ${pairs.map(([na, a, nb, bb]) => describe(na, acc(a, b), nb, acc(bb, b))).join('; ')}.`);
  }
  L.push('');

  L.push('## Ranking quality (`npm run bench:ranking`)');
  L.push('');
  L.push(
    `For each space, ${settings.rankingArchs} architectures spanning the FLOPs range (evenly spaced quantiles of 4,000 random subnets, fixed seed) are trained alone from scratch through the service's retraining (\`spec.retrain\`, init SCRATCH) at batch ${settings.batchSize}, seed 0: ${settings.aloneSteps} steps on the width space (about ${((settings.aloneSteps * settings.batchSize) / 55000).toFixed(1)} epochs), ${settings.opsAloneSteps} on the op space (about ${((settings.opsAloneSteps * settings.batchSize) / 55000).toFixed(1)} epochs). Each supernet predicts their order: by the inherited test accuracy after BN recalibration, or for DNA by its rating (minus the summed block distillation losses of the architecture's ops, read from \`Subnet.score\`). Kendall's tau-b and Spearman's rho against the trained-alone accuracies are computed per seed, then averaged. The FLOPs row is the order the FLOPs count alone gives, with no training at all.`,
  );
  L.push('');
  await rankingSection(L, r, 'width', ['uniform', 'sandwich', 'pss'], runsOf);
  await rankingSection(L, r, 'ops', ['uniform-ops', 'dna'], runsOf);
  await opSpaceSection(L, r, runsOf);
  L.push('');
  // The reading of the numbers is written by hand for the recorded run; a re-run keeps it, marked.
  const findings = new URL('./findings.md', import.meta.url);
  if (!r.quick && existsSync(findings)) {
    L.push(readFileSync(findings, 'utf8').trimEnd());
    L.push('');
  }
  mkdirSync(dirname(r.doc), { recursive: true });
  writeFileSync(r.doc, `${L.join('\n')}\n`);
}

async function rankingSection(L: string[], r: RenderInput, kind: SpaceKind, methods: string[], runsOf: (m: string) => SupernetRun[]): Promise<void> {
  const { cache, settings } = r;
  const archs = r.rankingArchs[kind];
  L.push(`### ${kind === 'width' ? 'Width space' : 'Op space'} (\`${kind === 'width' ? WIDTH_SPACE_DEFINITION.name : OPS_SPACE_DEFINITION.name}\`)`);
  L.push('');
  const alone = archs.map((a) => cache.alone[aloneKey(a, 0, settings, kind)]);
  if (alone.some((a) => a === undefined)) {
    L.push(`Not run yet (${alone.filter(Boolean).length} of ${archs.length} architectures trained alone).`);
    L.push('');
    return;
  }
  const truth = alone.map((a) => a!.accuracy);
  const predictionOf = (m: string, x: SupernetRun, a: Arch): number | undefined => (m === 'dna' ? x.scores?.[archLabel(a)] : x.ranking[archLabel(a)]);
  const f = (xs: number[]) => `${meanStd(xs).mean.toFixed(3)} ± ${meanStd(xs).std.toFixed(3)}`;
  L.push('| predictor | Kendall tau | Spearman rho | seeds |');
  L.push('| --- | ---: | ---: | ---: |');
  const flops = alone.map((a) => a!.flops);
  L.push(`| FLOPs count (no training) | ${kendallTau(flops, truth).toFixed(3)} | ${spearmanRho(flops, truth).toFixed(3)} | – |`);
  const TAU = 'Kendall tau';
  const RHO = 'Spearman rho';
  const predictors: SeededSeries[] = [];
  for (const m of methods) {
    const runs = runsOf(m).filter((x) => archs.every((a) => predictionOf(m, x, a) !== undefined));
    if (runs.length === 0) {
      L.push(`| ${m} | not run | | 0 |`);
      continue;
    }
    const taus = runs.map((x) => kendallTau(archs.map((a) => predictionOf(m, x, a) as number), truth));
    const rhos = runs.map((x) => spearmanRho(archs.map((a) => predictionOf(m, x, a) as number), truth));
    const label = m === 'dna' ? 'dna (rating)' : `${m} (inherited accuracy)`;
    L.push(`| ${label} | ${f(taus)} | ${f(rhos)} | ${runs.length} |`);
    predictors.push({ name: label, values: { [TAU]: taus, [RHO]: rhos } });
  }
  L.push('');
  if (predictors.length > 0) {
    await figure(L, r.doc, `ranking-${kind}.svg`, `Rank correlation with the trained-alone order (${kind} space), mean ± std over seeds, with the FLOPs count's as the baseline`, {
      title: `Ranking quality (${kind === 'width' ? WIDTH_SPACE_DEFINITION.name : OPS_SPACE_DEFINITION.name}), mean ± std over seeds`,
      categories: [TAU, RHO],
      xLabel: 'rank correlation with the trained-alone accuracies',
      yLabel: 'correlation',
      series: predictors,
      references: [{ name: 'FLOPs count (no training)', byCategory: { [TAU]: kendallTau(flops, truth), [RHO]: spearmanRho(flops, truth) } }],
    });
  }
  L.push('The architectures, trained alone and as predicted (mean over seeds):');
  L.push('');
  L.push(`| arch | FLOPs | params | trained alone | ${methods.join(' | ')} |`);
  L.push(`| --- | ---: | ---: | ---: | ${methods.map(() => '---:').join(' | ')} |`);
  archs.forEach((a, i) => {
    const cell = (m: string) => {
      const xs = runsOf(m)
        .map((x) => predictionOf(m, x, a))
        .filter((x): x is number => x !== undefined);
      if (xs.length === 0) return 'n/a';
      return m === 'dna' ? meanStd(xs).mean.toFixed(3) : pct(meanStd(xs).mean);
    };
    const al = alone[i]!;
    const name = kind === 'width' ? `${a.resolution}: ${Object.values(a.width).join('-')}` : Object.values(a.op ?? {}).join('');
    L.push(`| ${name} | ${kflops(al.flops)} | ${al.params} | ${pct(al.accuracy)} | ${methods.map(cell).join(' | ')} |`);
  });
  L.push('');
}

async function opSpaceSection(L: string[], r: RenderInput, runsOf: (m: string) => SupernetRun[]): Promise<void> {
  const bs = budgets('ops');
  const d = OPS_SPACE_DEFINITION;
  L.push('## DNA against its uniform baseline on the op space (`npm run bench:search`)');
  L.push('');
  L.push(
    `Space \`${d.name}\`: stem conv 3x3 stride 2 (4 channels), three blocks of two MBConv layers (outputs 8, 16, 24; strides 1, 2, 2), each layer one of {MB1_3, MB3_3, MB6_3, MB6_5} (MB expansion_kernel), head 1x1 conv 32, resolution 16: 4,096 subnets. Both methods get ${r.settings.opsPasses} training steps at batch ${r.settings.batchSize}: a uniform step is one pass of a whole subnet; a DNA step is one pass of the teacher (first half, the teacher phase) or of one student block plus the teacher's forward (second half). DNA's teacher is derived from the space (each op-choice layer replaced by one wider op). Each method's search picks an architecture per FLOPs budget; since DNA's student weights are block-wise distilled and meant to be retrained, every searched architecture is retrained alone from scratch through the service's retraining (${r.settings.opsAloneSteps} steps, seed of the run) and that accuracy is compared.`,
  );
  L.push('');
  L.push(`| method | ${bs.map((b) => `≤ ${kflops(b)}: retrained`).join(' | ')} | ${bs.map((b) => `≤ ${kflops(b)}: FLOPs`).join(' | ')} | teacher held-out acc | seeds |`);
  L.push(`| --- | ${bs.map(() => '---:').join(' | ')} | ${bs.map(() => '---:').join(' | ')} | ---: | ---: |`);
  for (const m of ['uniform-ops', 'dna']) {
    const runs = runsOf(m);
    if (runs.length === 0) {
      L.push(`| ${m} | not run |`);
      continue;
    }
    const acc = bs.map((b) => pm(runs.map((x) => x.retrained?.[String(b)] ?? NaN)));
    const fl = bs.map((b) => kflops(meanStd(runs.map((x) => x.deploy[String(b)]?.flops ?? NaN)).mean));
    const teacher = runs.map((x) => x.finalLosses['teacher_val_accuracy']).filter((x): x is number => x !== undefined);
    L.push(`| ${m} | ${acc.join(' | ')} | ${fl.join(' | ')} | ${teacher.length ? pm(teacher) : 'n/a'} | ${runs.length} |`);
  }
  L.push('');
  const ret = (m: string, b: number) => runsOf(m).map((x) => x.retrained?.[String(b)] ?? NaN);
  for (const b of bs) L.push(`- ≤ ${kflops(b)}: ${describe('dna', ret('dna', b), 'uniform', ret('uniform-ops', b))}.`);
  L.push('');
  const retrainedBy = ['uniform-ops', 'dna'].filter((m) => runsOf(m).some((x) => x.retrained !== undefined));
  if (retrainedBy.length > 0) {
    const aloneRef = bestAloneWithin(r, 'ops', bs);
    await figure(L, r.doc, 'dna-ops.svg', 'Searched architectures retrained alone per budget, mean ± std over seeds, with the best ranking architecture trained alone within each budget', {
      title: `Searched architectures retrained alone (${d.name}), mean ± std over seeds`,
      categories: bs.map(budgetLabel),
      xLabel: 'FLOPs budget',
      yLabel: 'test accuracy after retraining (%)',
      series: retrainedBy.map((m) => ({ name: m, values: Object.fromEntries(bs.map((b) => [budgetLabel(b), ret(m, b).map((a) => a * 100)])) })),
      references: Object.keys(aloneRef).length > 0 ? [{ name: ALONE_REFERENCE, byCategory: aloneRef }] : [],
    });
  }
}
