/**
 * `npm run bench`: one training step of the same architecture and batch in TF.js (the engine's
 * backend) and in PyTorch CPU, timed alternately in one run, both warm. Prints one line per case:
 *
 *   engine-vs-pytorch train-step ratio: R (engine A ms, pytorch B ms, backend NAME, case CASE)
 *
 * where A and B are median per-step times and R = A / B. PyTorch runs on as many threads as the
 * engine's backend uses (1 for wasm); when its default differs, a second line reports that too.
 *
 * Options: --cases a,b,c,d  --rounds N (default 5)  --steps N per round (default 3)
 *          --backend wasm|cpu|tensorflow|auto (default wasm)  --profile (per-kernel times of case a)
 *          --profile-case X (per-kernel times of case X only, no comparison)
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../src/backend/select-backend.ts';
import { smallNetCase, type CaseSpec } from './net-spec.ts';
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
  /** Builds the TF.js side (on the active backend) and the spec PyTorch builds the same net from. */
  build(): Promise<{ engine: EngineSide; spec: CaseSpec }>;
}

const CASES: BenchCase[] = [
  {
    id: 'a',
    name: 'a-small-mobilenet-b64-32x32x3',
    build: async () => {
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

async function profileCase(c: BenchCase): Promise<void> {
  const { engine } = await c.build();
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: 'a,b,c,d' },
      rounds: { type: 'string', default: '5' },
      steps: { type: 'string', default: '3' },
      backend: { type: 'string', default: 'wasm' },
      profile: { type: 'boolean', default: false },
      'profile-case': { type: 'string' },
    },
  });
  const backend = await initBackend(values.backend as BackendName);
  tf.enableProdMode();
  try {
    const { engineCases } = await import('./engine-cases.ts');
    addCases(engineCases(values.backend as BackendName));
  } catch (e) {
    console.log(`bench: engine cases unavailable (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  const wanted = values.cases.split(',');
  const cases = CASES.filter((c) => wanted.includes(c.id));
  if (values.profile || values['profile-case'] !== undefined) {
    const id = values['profile-case'] ?? 'a';
    const c = CASES.find((k) => k.id === id);
    if (c === undefined) throw new Error(`no case '${id}'`);
    await profileCase(c);
    if (values['profile-case'] !== undefined) return;
  }
  const rounds = Number(values.rounds);
  const steps = Number(values.steps);
  const python = ensureTorchPython();
  const torch = new TorchWorker(python);
  const hello = await torch.hello();
  // The wasm and cpu backends compute on one thread in Node; native TensorFlow uses every core.
  const engineThreads = backend === 'tensorflow' ? hello.default_threads : 1;
  console.log(`bench: torch ${hello.torch} (default ${hello.default_threads} threads), tfjs ${tf.version_core} backend ${backend}, ${rounds} rounds x ${steps} steps after warm-up`);
  try {
    for (const c of cases) {
      const { engine, spec } = await c.build();
      await torch.build(spec);
      timeSteps(engine, 2);
      await torch.run(2, engineThreads);
      const engineMs: number[] = [];
      const torchMs: number[] = [];
      const torchDefaultMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        engineMs.push(...timeSteps(engine, steps));
        torchMs.push(...(await torch.run(steps, engineThreads)));
        if (hello.default_threads !== engineThreads) torchDefaultMs.push(...(await torch.run(steps, hello.default_threads)));
      }
      engine.dispose();
      const a = median(engineMs);
      const b = median(torchMs);
      console.log(
        `engine-vs-pytorch train-step ratio: ${(a / b).toFixed(2)} (engine ${a.toFixed(1)} ms, pytorch ${b.toFixed(1)} ms, backend ${backend}, case ${c.name})`,
      );
      if (torchDefaultMs.length > 0) {
        const d = median(torchDefaultMs);
        console.log(`  pytorch on its default ${hello.default_threads} threads: ${d.toFixed(1)} ms (ratio ${(a / d).toFixed(2)})`);
      }
    }
  } finally {
    torch.close();
  }
}

await main();
