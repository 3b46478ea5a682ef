/**
 * Resident memory per live experiment worker, per backend and dataset size:
 *
 *   npm run bench:memory -- [--backends wasm,tensorflow] [--sizes 2000,0] [--experiments 3]
 *                           [--preset mbv2-small] [--batch 32] [--steps 2] [--evaluate 1]
 *
 * For each backend and each size of the built-in fashion-mnist (`maxTrainExamples`; 0 = all
 * 60,000, with a test split of a quarter of it, at most 10,000) a fresh process starts a server
 * (real gRPC on a local port) and creates `experiments` experiments on that dataset one after
 * another, each with its own seed, trains each `steps` steps with TrainStep and (with `evaluate`
 * 1) evaluates the trained subnet on the whole test split, so its worker has built and used
 * everything a worker holds. It reads the process's RSS after the server started and after each experiment, and
 * prints one line per experiment: RSS and what that worker added. The first worker also pays for
 * loading the backend in a thread; later ones show what one more experiment costs.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SupernetdClient } from '@supernetd/client';
import { startServer } from '../src/index.ts';
import type { ServerConfig } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm,tensorflow' },
    sizes: { type: 'string', default: '2000,0' },
    experiments: { type: 'string', default: '3' },
    preset: { type: 'string', default: 'mbv2-small' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '2' },
    evaluate: { type: 'string', default: '1' },
    child: { type: 'string' },
  },
});

const MiB = 1024 * 1024;

interface ChildResult {
  backend: string;
  size: number;
  baseRss: number;
  rss: number[];
}

async function settle(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 300));
  }
  return process.memoryUsage().rss;
}

async function child(backend: string, size: number): Promise<ChildResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'supernetd-memory-'));
  const server = await startServer({
    port: 0,
    dataDir,
    logLevel: 'warn',
    backend: backend as ServerConfig['backend'],
    maxLiveWorkers: Number(values.experiments) + 1,
  });
  const client = new SupernetdClient({ address: server.address, tls: false, timeoutMs: 600_000 });
  try {
    const baseRss = await settle();
    const rss: number[] = [];
    const test = size === 0 ? 0 : Math.min(10_000, Math.ceil(size / 4));
    for (let k = 0; k < Number(values.experiments); k++) {
      const experimentId = `mem-${k}`;
      await client.createExperiment({
        experimentId,
        spec: {
          searchSpace: { preset: values.preset },
          strategy: { id: 'uniform' },
          training: {
            dataset: { name: 'fashion-mnist', maxTrainExamples: size, maxTestExamples: test },
            batchSize: Number(values.batch),
            totalSteps: 100n,
            seed: k + 1,
          },
        },
      });
      const stepped = await client.trainStep({ experimentId, input: { case: 'steps', value: Number(values.steps) } });
      if (values.evaluate === '1') await client.evaluate({ experimentId, target: { case: 'subnetId', value: stepped.subnets[0]!.id } });
      rss.push(await settle());
    }
    return { backend, size, baseRss, rss };
  } finally {
    client.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function runChild(backend: string, size: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), ['--child', `${backend}:${size}`, ...process.argv.slice(2)], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let result: ChildResult | undefined;
    p.on('message', (m) => (result = m as ChildResult));
    p.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${backend} size ${size}: child exited with ${code}`))));
  });
}

if (values.child) {
  const [backend, size] = values.child.split(':') as [string, string];
  const r = await child(backend, Number(size));
  process.send!(r);
  process.exit(0);
} else {
  console.log(
    `worker memory: ${values.preset}, batch ${values.batch}, ${values.steps} TrainStep steps${values.evaluate === '1' ? ' and an Evaluate of the test split' : ''} per experiment, fashion-mnist; ` +
      `${os.cpus().length} cores, Node ${process.version}`,
  );
  console.log('backend     train/test       server RSS  per experiment: RSS after (added by that worker)');
  for (const backend of values.backends.split(',')) {
    for (const size of values.sizes.split(',').map(Number)) {
      const r = await runChild(backend, size);
      const test = size === 0 ? 10_000 : Math.min(10_000, Math.ceil(size / 4));
      const cells = r.rss.map((v, i) => `${(v / MiB).toFixed(0)} (+${((v - (i === 0 ? r.baseRss : r.rss[i - 1]!)) / MiB).toFixed(0)})`);
      console.log(
        `${backend.padEnd(11)} ${`${size === 0 ? 60000 : size}/${test}`.padEnd(16)} ${(r.baseRss / MiB).toFixed(0).padStart(6)} MiB  ${cells.join('  ')} MiB`,
      );
    }
  }
}
