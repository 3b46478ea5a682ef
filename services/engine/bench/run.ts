/**
 * `npm run bench`: one training step of the same architecture and batch in TF.js, on every backend
 * present (`wasm`, and `tensorflow` when its native binding loads), and in PyTorch CPU on 1 thread
 * and on the machine's cores, all timed alternately in one run and all warm. Per case it prints one
 * line per backend and one GFLOP/s line:
 *
 *   engine-vs-pytorch train-step ratio: R1 vs 1 thread, RN vs N threads (engine A ms on T threads, pytorch B1 / BN ms, backend NAME, case CASE)
 *   achieved GFLOP/s: wasm X, tensorflow Y, pytorch Z on 1 thread, W on N threads (F GFLOP counted per step, case CASE)
 *
 * where A and B are median per-step times and R = A / B; the FLOPs are counted from the case's net
 * (`stepFlops` in net-spec.ts), the same number for every side. A first line gives each side's
 * ceiling on this machine: its GFLOP/s on a large float32 GEMM run as a 1x1 convolution (PyTorch
 * on 1 and N threads).
 *
 * Options: --cases a,b,c,d  --rounds N (default 5)  --steps N per round (default 3)
 *          --backends wasm,tensorflow (default: wasm, plus tensorflow when it loads; cpu allowed)
 *          --backend NAME (one backend only, as --backends NAME)
 *          --threads N (wasm threads; default every core)
 *          --profile (per-kernel times of one step of case a on each backend)
 *          --profile-case X (per-kernel times of case X only, no comparison)
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, initBackend, type BackendName } from '../src/backend/select-backend.ts';
import { smallNetCase, stepFlops, type CaseSpec } from './net-spec.ts';
import { SpecNet } from './spec-net.ts';
import { ensureTorchPython, TorchWorker } from './torch-worker.ts';

/** The TF.js side of a case: a training step and its cleanup. */
export interface EngineSide {
  step(): void;
  dispose(): void;
}

export interface BenchCase {
  id: string;
  name: string;
  /** Builds the TF.js side on `backend` and the spec PyTorch builds the same net from. */
  build(backend: BackendName): Promise<{ engine: EngineSide; spec: CaseSpec }>;
}

const CASES: BenchCase[] = [
  {
    id: 'a',
    name: 'a-small-mobilenet-b64-32x32x3',
    build: async (backend) => {
      await initBackend(backend);
      const spec = smallNetCase();
      const net = new SpecNet(spec);
      return { engine: { step: () => void net.step(), dispose: () => net.dispose() }, spec };
    },
  },
];

/** Registers more cases (the engine's supernet cases live in engine-cases.ts). */
export function addCases(cases: BenchCase[]): void {
  CASES.push(...cases);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeSteps(engine: EngineSide, steps: number): number[] {
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    engine.step();
    ms.push(performance.now() - t0);
  }
  return ms;
}

async function profileCase(c: BenchCase, backend: BackendName): Promise<void> {
  const { engine } = await c.build(backend);
  engine.step();
  const info = await tf.profile(() => engine.step());
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`profile of one step, case ${c.name}, backend ${tf.getBackend()}: ${total.toFixed(1)} ms in kernels`);
  for (const [name, e] of rows) console.log(`  ${name.padEnd(40)} ${e.ms.toFixed(2).padStart(8)} ms  ${String(e.calls).padStart(4)} calls`);
  engine.dispose();
}

/** The backends to compare: the ones asked for, else wasm plus tensorflow when its binding loads. */
async function chooseBackends(values: { backend?: string; backends?: string; threads?: string }): Promise<BackendName[]> {
  const wasmOptions = values.threads !== undefined ? { threads: Number(values.threads) } : {};
  const asked = values.backend ?? values.backends;
  if (asked !== undefined) {
    const list = asked.split(',').map((s) => s.trim()) as BackendName[];
    for (const b of list) await initBackend(b, b === 'wasm' ? wasmOptions : {});
    return list;
  }
  await initBackend('wasm', wasmOptions);
  try {
    await initBackend('tensorflow');
    return ['wasm', 'tensorflow'];
  } catch (e) {
    console.log(`bench: backend tensorflow left out (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
    return ['wasm'];
  }
}

/** Threads a backend computes on: wasm's configured count, TensorFlow's intra-op pool (every core), cpu 1. */
async function threadsOf(backend: BackendName, cores: number): Promise<number> {
  await initBackend(backend);
  if (backend === 'tensorflow') return Number(process.env.TF_NUM_INTRAOP_THREADS) || cores;
  return backendInfo().threads ?? 1;
}

const GEMM_SIZE = 1024;
/**
 * Images in the ceiling's 1x1 convolution, as in torch_bench.py: on one thread PyTorch 1.13 runs a
 * 1x1 convolution of a single image on its slow non-oneDNN path, which no case takes.
 */
const GEMM_BATCH = 16;

/**
 * GFLOP/s of the best of five n x n x n float32 GEMMs on `backend`, each run as a 1x1 convolution
 * (n -> n channels on GEMM_BATCH images of sqrt(n / GEMM_BATCH) squared pixels), the path the sides'
 * convolutions take; n / GEMM_BATCH a square.
 */
async function engineGemm(backend: BackendName, n: number): Promise<number> {
  await initBackend(backend);
  const side = Math.round(Math.sqrt(n / GEMM_BATCH));
  const x = tf.randomUniform([GEMM_BATCH, side, side, n]) as tf.Tensor4D;
  const w = tf.randomUniform([1, 1, n, n]) as tf.Tensor4D;
  tf.conv2d(x, w, 1, 'valid').dispose();
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const y = tf.conv2d(x, w, 1, 'valid');
    y.dataSync();
    best = Math.min(best, performance.now() - t0);
    y.dispose();
  }
  tf.dispose([x, w]);
  return (2 * n * n * GEMM_BATCH * side * side) / (best / 1000) / 1e9;
}

const plural = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: 'a,b,c,d' },
      rounds: { type: 'string', default: '5' },
      steps: { type: 'string', default: '3' },
      backend: { type: 'string' },
      backends: { type: 'string' },
      threads: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'profile-case': { type: 'string' },
    },
  });
  const backends = await chooseBackends(values);
  tf.enableProdMode();
  try {
    const { engineCases } = await import('./engine-cases.ts');
    addCases(engineCases());
  } catch (e) {
    console.log(`bench: engine cases unavailable (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  const wanted = values.cases.split(',');
  const cases = CASES.filter((c) => wanted.includes(c.id));
  if (values.profile || values['profile-case'] !== undefined) {
    const id = values['profile-case'] ?? 'a';
    const c = CASES.find((k) => k.id === id);
    if (c === undefined) throw new Error(`no case '${id}'`);
    for (const b of backends) await profileCase(c, b);
    if (values['profile-case'] !== undefined) return;
  }
  const rounds = Number(values.rounds);
  const steps = Number(values.steps);
  const cores = availableParallelism();
  const torchThreads = cores > 1 ? [1, cores] : [1];
  const python = ensureTorchPython();
  const torch = new TorchWorker(python);
  const hello = await torch.hello();
  const engineThreads = new Map<BackendName, number>();
  for (const b of backends) engineThreads.set(b, await threadsOf(b, cores));
  console.log(
    `bench: torch ${hello.torch} (default ${plural(hello.default_threads)}), tfjs ${tf.version_core}, backends ${backends.map((b) => `${b} (${plural(engineThreads.get(b)!)})`).join(', ')}, ${cores} cores, ${rounds} rounds x ${steps} steps after warm-up`,
  );
  const limits: string[] = [];
  for (const b of backends) limits.push(`${b} ${(await engineGemm(b, GEMM_SIZE)).toFixed(1)}`);
  for (const t of torchThreads) limits.push(`pytorch ${(await torch.gemm(GEMM_SIZE, t)).toFixed(1)} on ${plural(t)}`);
  console.log(
    `bench: each side's ceiling, GFLOP/s of a ${GEMM_SIZE}x${GEMM_SIZE}x${GEMM_SIZE} float32 GEMM as a 1x1 conv of ${GEMM_BATCH} images (best of 5): ${limits.join(', ')}`,
  );
  try {
    for (const c of cases) {
      const sides = new Map<BackendName, EngineSide>();
      let spec: CaseSpec | undefined;
      for (const b of backends) {
        const built = await c.build(b);
        sides.set(b, built.engine);
        spec ??= built.spec;
      }
      await torch.build(spec!);
      for (const [b, side] of sides) {
        await initBackend(b);
        timeSteps(side, 2);
      }
      for (const t of torchThreads) await torch.run(2, t);
      const engineMs = new Map<BackendName, number[]>(backends.map((b) => [b, []]));
      const torchMs = new Map<number, number[]>(torchThreads.map((t) => [t, []]));
      // Alternate every round, so that load on the machine hits every side alike.
      for (let r = 0; r < rounds; r++) {
        for (const [b, side] of sides) {
          await initBackend(b);
          engineMs.get(b)!.push(...timeSteps(side, steps));
        }
        for (const t of torchThreads) torchMs.get(t)!.push(...(await torch.run(steps, t)));
      }
      for (const [b, side] of sides) {
        await initBackend(b);
        side.dispose();
      }
      const flops = stepFlops(spec!);
      const gflops = (ms: number) => (flops / (ms / 1000) / 1e9).toFixed(2);
      const torchMedian = torchThreads.map((t) => median(torchMs.get(t)!));
      for (const b of backends) {
        const a = median(engineMs.get(b)!);
        const ratios = torchThreads.map((t, i) => `${(a / torchMedian[i]!).toFixed(2)} vs ${plural(t)}`).join(', ');
        console.log(
          `engine-vs-pytorch train-step ratio: ${ratios} (engine ${a.toFixed(1)} ms on ${plural(engineThreads.get(b)!)}, pytorch ${torchMedian.map((m) => m.toFixed(1)).join(' / ')} ms, backend ${b}, case ${c.name})`,
        );
      }
      const engineRates = backends.map((b) => `${b} ${gflops(median(engineMs.get(b)!))}`).join(', ');
      const torchRates = torchThreads.map((t, i) => `${gflops(torchMedian[i]!)} on ${plural(t)}`).join(', ');
      console.log(`achieved GFLOP/s: ${engineRates}, pytorch ${torchRates} (${(flops / 1e9).toFixed(2)} GFLOP counted per step, case ${c.name})`);
    }
  } finally {
    torch.close();
  }
}

await main();
