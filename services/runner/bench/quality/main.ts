// npm run bench:search / npm run bench:ranking: the search-quality benchmarks. Both share one cache
// (runs/bench-quality/cache.json) and both rewrite docs/results.md from everything cached, so they
// can run in parts (--methods, --seeds) and in either order.
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BenchServer,
  DEFAULT_SETTINGS,
  claim,
  METHODS,
  QUICK_SETTINGS,
  ResultCache,
  aloneKey,
  log,
  pickRankingArchs,
  pool,
  runAlone,
  runSupernet,
  spaceOf,
  supernetKey,
} from './harness.ts';
import type { Arch } from '@supernetd/sdk';
import type { BenchSettings, SpaceKind } from './harness.ts';

/** The methods whose supernets predict the ranking architectures' order. */
const RANKING_METHODS = ['uniform', 'sandwich', 'pss', 'uniform-ops', 'dna'];
import { renderResults } from './render.ts';

const USAGE = `Usage: npm run bench:search  -- [flags]   supernets of every method and seed, deploy choices per budget
       npm run bench:ranking -- [flags]   the ranking architectures trained alone, then Kendall tau / Spearman rho
  --quick            a few steps on a small slice (checks the pipeline; minutes)
  --methods a,b      methods to run (default: all: ${Object.keys(METHODS).join(',')}; ranking: ${RANKING_METHODS.join(',')})
  --seeds 0,1,2      seeds (default 0,1,2)
  --passes N         forward/backward passes per supernet (default ${DEFAULT_SETTINGS.passes})
  --parallel N       experiments trained at once (default ${DEFAULT_SETTINGS.parallel})
  --out DIR          cache and server data (default runs/bench-quality; quick: runs/bench-quality-quick)
  --doc FILE         results page (default docs/results.md; quick: <out>/results.md)
  --alone-only       ranking: only train the ranking architectures alone (no supernets)
  --render-only      only rewrite the page from the cache
`;

const { values: v, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean' },
    methods: { type: 'string' },
    seeds: { type: 'string' },
    passes: { type: 'string' },
    parallel: { type: 'string' },
    out: { type: 'string' },
    doc: { type: 'string' },
    'render-only': { type: 'boolean' },
    'alone-only': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
const mode = positionals[0];
if (v.help || (mode !== 'search' && mode !== 'ranking')) {
  process.stdout.write(USAGE);
  process.exit(v.help ? 0 : 2);
}
const quick = v.quick ?? false;
const settings: BenchSettings = { ...(quick ? QUICK_SETTINGS : DEFAULT_SETTINGS) };
if (v.seeds) settings.seeds = v.seeds.split(',').map(Number);
if (v.passes) settings.passes = Number(v.passes);
if (v.parallel) settings.parallel = Number(v.parallel);
const out = resolve(v.out ?? (quick ? 'runs/bench-quality-quick' : 'runs/bench-quality'));
const doc = resolve(v.doc ?? (quick ? `${out}/results.md` : 'docs/results.md'));
const defaultMethods = mode === 'ranking' ? RANKING_METHODS : Object.keys(METHODS);
const methods = (v.methods ? v.methods.split(',') : defaultMethods).map((m) => {
  const method = METHODS[m];
  if (!method) throw new Error(`unknown method '${m}' (known: ${Object.keys(METHODS).join(', ')})`);
  return method;
});

const cache = new ResultCache(`${out}/cache.json`);
const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const rankingArchs: Record<SpaceKind, Arch[]> = { width: pickRankingArchs(settings.rankingArchs, 'width'), ops: pickRankingArchs(settings.rankingArchs, 'ops') };

if (!v['render-only']) {
  const server = await BenchServer.start(out);
  const started = performance.now();
  try {
    const jobs: (() => Promise<void>)[] = [];
    if (mode === 'ranking') {
      for (const kind of ['width', 'ops'] as const) {
        for (const arch of rankingArchs[kind]) {
          const key = aloneKey(arch, 0, settings, kind);
          if (cache.alone[key]) continue;
          jobs.push(async () => {
            if (cache.alone[key] || !claim(`${out}/claims`, key)) return;
            log(`alone ${key}: training`);
            const result = await runAlone(server, arch, 0, settings, kind);
            await cache.putAlone(key, result);
            log(`alone ${key}: ${(result.accuracy * 100).toFixed(2)}%`);
          });
        }
      }
    }
    for (const seed of v['alone-only'] ? [] : settings.seeds) {
      for (const method of methods) {
        const key = supernetKey(method, seed, settings);
        if (cache.supernets[key]) continue;
        jobs.push(async () => {
          if (cache.supernets[key] || !claim(`${out}/claims`, key)) return;
          log(`supernet ${key}: training`);
          const r = await runSupernet(server, key, method, seed, settings, rankingArchs[spaceOf(method)]);
          await cache.putSupernet(key, r);
          log(`supernet ${key}: ${r.steps} steps in ${r.trainSeconds.toFixed(0)} s; deploy ${Object.values(r.deploy).map((d) => (d.accuracy * 100).toFixed(2)).join(' / ')}%`);
        });
      }
    }
    log(`${jobs.length} jobs to run (${out})`);
    await pool(settings.parallel, jobs);
    log(`done in ${((performance.now() - started) / 60000).toFixed(1)} min`);
  } finally {
    await server.stop();
  }
}
await renderResults({ doc, cache, settings, rankingArchs, machine, quick });
log(`wrote ${doc}`);
