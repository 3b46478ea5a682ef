// The quality benchmark's results page rendered from a cache of the recorded run (uniform, pss,
// uniform-ops and dna over three seeds, every ranking architecture trained alone): the tables and
// the figures the page links, without training anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SETTINGS, ResultCache, pickRankingArchs } from '../bench/quality/harness.ts';
import { figureDir, renderResults } from '../bench/quality/render.ts';
import { seriesMarkName } from '../src/charts.ts';
import { allElements, parseXml } from './xml-check.ts';

const FIXTURE = fileURLToPath(new URL('./data/quality-cache.json', import.meta.url));

function groupsOf(svg: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of allElements(parseXml(svg))) {
    const m = /role-mark (\S+)_marks/.exec(e.attributes.class ?? '');
    if (e.name === 'g' && m) out.set(m[1]!, e.children.length);
  }
  return out;
}

const legend = (svg: string): string[] =>
  allElements(parseXml(svg))
    .filter((e) => e.name === 'g' && (e.attributes.class ?? '').includes('role-legend-label'))
    .flatMap((g) => g.children.map((c) => c.text));

test('the results page links a figure per section: mean ± std per method with its references', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quality-render-'));
  try {
    const doc = join(dir, 'results.md');
    await renderResults({
      doc,
      cache: new ResultCache(FIXTURE),
      settings: { ...DEFAULT_SETTINGS },
      rankingArchs: { width: pickRankingArchs(DEFAULT_SETTINGS.rankingArchs, 'width'), ops: pickRankingArchs(DEFAULT_SETTINGS.rankingArchs, 'ops') },
      machine: 'test machine',
      quick: true,
    });
    const page = readFileSync(doc, 'utf8');
    assert.match(page, /\| uniform \| 84\.86 ± 0\.64 \| 85\.48 ± 0\.52 \| 85\.68 ± 0\.52 \|/, 'the recorded numbers');
    const links = [...page.matchAll(/!\[[^\]]+\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
    assert.deepEqual(links, ['results/deploy-width.svg', 'results/ranking-width.svg', 'results/ranking-ops.svg', 'results/dna-ops.svg']);
    assert.equal(figureDir(doc), join(dir, 'results'));
    const svg = (link: string) => readFileSync(join(dir, link), 'utf8');
    for (const l of links) assert.ok(existsSync(join(dir, l)), `${l} written`);

    const deploy = groupsOf(svg(links[0]!));
    for (const [i, m] of ['uniform', 'pss'].entries()) {
      assert.equal(deploy.get(seriesMarkName(i, m)), 3, `${m}: a mean per budget`);
      assert.equal(deploy.get(`${seriesMarkName(i, m)}_errorbar_layer_2`), 3, `${m}: an error bar per budget`);
    }
    assert.ok(![...deploy.keys()].some((k) => k.includes('sandwich')), 'methods without runs are left out');
    assert.deepEqual(legend(svg(links[0]!)), ['uniform', 'pss', 'trained alone: best ranking architecture within the budget (seed 0)']);

    const ranking = groupsOf(svg(links[1]!));
    assert.equal(ranking.get(seriesMarkName(0, 'uniform (inherited accuracy)')), 2, 'Kendall tau and Spearman rho');
    assert.equal(ranking.get('ref0_FLOPs_count__no_training_'), 2, "the FLOPs count's tau and rho as the baseline");
    assert.deepEqual(legend(svg(links[2]!)), ['uniform-ops (inherited accuracy)', 'dna (rating)', 'FLOPs count (no training)']);

    const dna = groupsOf(svg(links[3]!));
    assert.equal(dna.get(`${seriesMarkName(1, 'dna')}_errorbar_layer_2`), 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
