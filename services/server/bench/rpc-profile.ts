/**
 * Where one RPC's time goes: supernetd in this process (wasm backend, the experiment of
 * `npm run bench:rpc`) with one method driven by ghz (50 concurrent, 2 connections), then the
 * calls' rate and latency, the process's CPU time per call (all threads, and by thread), the main
 * thread's GC pauses, ghz's own CPU time, how many requests skipped their rules as known valid, and
 * how many appends (a batch of subnets drawn ahead is one) went out in how many durable writes. Run it under a profiler:
 *
 *   node --cpu-prof --cpu-prof-dir DIR --import tsx services/server/bench/rpc-profile.ts \
 *        [--method SampleSubnet|GetExperiment] [--seconds 8] [--train] [--skip-subnet-log] [--no-draw-ahead] [--renice-trainer NICE]
 *
 * --train keeps a Train stream running through the measurement; --renice-trainer then sets the
 * scheduling priority (nice value) of the thread that trains, for comparison. --skip-subnet-log is for
 * measurement only: handed-out subnets are not written, which shows what waiting for the
 * durable subnets.jsonl line costs (the server then breaks its durability promise).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { DescMessage } from '@bufbuild/protobuf';
import { SupernetService, makeGrpcClientConstructor } from '@supernetd/api';
import { DEFAULT_GHZ, SUPERNETD_IMPORT_PATHS, repoRoot } from './rpc-load.ts';
import { startServer } from '../src/index.ts';
import { ExperimentSession } from '../src/experiments/experiment-session.ts';
import { ExperimentStore } from '../src/persistence/experiment-store.ts';
import { groupCommitStats } from '../src/persistence/group-commit-log.ts';
import { validationStats } from '../src/grpc/request-validation.ts';

const { values } = parseArgs({
  options: {
    method: { type: 'string', default: 'SampleSubnet' },
    seconds: { type: 'string', default: '8' },
    train: { type: 'boolean', default: false },
    'skip-subnet-log': { type: 'boolean', default: false },
    'no-draw-ahead': { type: 'boolean', default: false },
    'renice-trainer': { type: 'string' },
  },
});
if (values['skip-subnet-log']) {
  ExperimentStore.prototype.appendSubnet = () => Promise.resolve();
  ExperimentStore.prototype.appendSubnetLines = () => Promise.resolve();
}
// (for comparison: SampleSubnet without drawing ahead, each call waiting for its own line)
if (values['no-draw-ahead']) (ExperimentSession.prototype as unknown as { drawAhead(): void }).drawAhead = () => undefined;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'supernetd-rpc-profile-'));
const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, backend: 'wasm', logLevel: 'warn' });
const Client = makeGrpcClientConstructor(SupernetService);
const client = new Client(server.address, grpc.credentials.createInsecure());
const unary = <T>(method: string, req: unknown): Promise<T> =>
  new Promise((resolve, reject) => {
    const msg = create((SupernetService.method as Record<string, { input: DescMessage }>)[method]!.input, req as never);
    const fn = (client as unknown as Record<string, (r: unknown, cb: (e: grpc.ServiceError | null, res: T) => void) => void>)[method]!;
    fn.call(client, msg, (err, res) => (err ? reject(err) : resolve(res)));
  });
const id = 'bench-rpc';
await unary('createExperiment', {
  experimentId: id,
  spec: {
    searchSpace: { preset: 'mbv1-small' },
    strategy: { id: 'uniform' },
    training: { dataset: { name: 'fashion-mnist', maxTrainExamples: 256, maxTestExamples: 64 }, batchSize: 16, totalSteps: 1_000_000n, seed: 1, checkpointInterval: 1000 },
  },
});
const flops: number[] = [];
for (let i = 0; i < 15; i++) flops.push((await unary<{ subnets: { cost?: { flops: number } }[] }>('sampleSubnet', { experimentId: id })).subnets[0]?.cost?.flops ?? 0);
flops.sort((a, b) => a - b);
const target = flops[7]!;
let stream: grpc.ClientReadableStream<unknown> | undefined;
if (values.train) {
  stream = client.train(create(SupernetService.method.train.input, { experimentId: id, steps: 1_000_000, progressInterval: 5 }));
  await new Promise((r) => stream!.once('data', r));
  stream.on('error', () => undefined);
  if (values['renice-trainer']) {
    // (for comparison) the thread that used the most CPU in a second of training is the training worker
    const ticks = () =>
      new Map(
        readdirSync('/proc/self/task').map((tid) => {
          const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return [Number(tid), Number(f[11]) + Number(f[12])] as const;
        }),
      );
    const t0 = ticks();
    await new Promise((r) => setTimeout(r, 1000));
    const busiest = [...ticks()].filter(([tid]) => tid !== process.pid).sort((a, b) => b[1] - (t0.get(b[0]) ?? 0) - (a[1] - (t0.get(a[0]) ?? 0)))[0]!;
    os.setPriority(busiest[0], Number(values['renice-trainer']));
    console.log(`reniced thread ${busiest[0]} (${busiest[1] - (t0.get(busiest[0]) ?? 0)} ticks in 1 s) to ${values['renice-trainer']}`);
  }
}
const json = values.method === 'SampleSubnet' ? { experimentId: id, constraint: { kind: 'CONSTRAINT_KIND_FLOPS', target } } : { experimentId: id };
const args = [
  '--insecure', '--proto', path.join(repoRoot, 'proto/supernetd/v1/supernet_service.proto'), '--import-paths', SUPERNETD_IMPORT_PATHS,
  '--call', `supernetd.v1.SupernetService.${values.method}`, '-d', JSON.stringify(json), '-c', '50', '--connections', '2',
  '-z', `${values.seconds}s`, '-n', '0', '-O', 'json', server.address,
];
/** CPU ticks (user + system) of each thread of this process so far, by thread id, with the thread's name. */
const threadTicks = () =>
  new Map(
    readdirSync('/proc/self/task').flatMap((tid) => {
      try {
        const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return [[tid, { name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(), ticks: Number(f[11]) + Number(f[12]) }] as const];
      } catch {
        return [];
      }
    }),
  );
const threads0 = threadTicks();
// the main thread's garbage-collection pauses during the measurement, by kind
const gcPause = new Map<string, number>();
const gcKinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' };
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = gcKinds[(e as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    gcPause.set(kind, (gcPause.get(kind) ?? 0) + e.duration);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
const cpu0 = process.cpuUsage();
const gc0 = { ...groupCommitStats };
const skipped0 = validationStats.skipped;
const out = await new Promise<string>((resolve) => {
  // bash's `times` prints the children's user and system CPU after ghz exits
  const p = spawn('bash', ['-c', '"$@" ; times >&2', 'ghz', process.env.GHZ ?? DEFAULT_GHZ, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let o = '';
  let e = '';
  p.stdout.on('data', (d: Buffer) => (o += d.toString()));
  p.stderr.on('data', (d: Buffer) => (e += d.toString()));
  p.on('close', () => {
    process.stderr.write(`ghz times (shell, then children):\n${e}`);
    resolve(o);
  });
});
const cpu = process.cpuUsage(cpu0);
const r = JSON.parse(out) as { count: number; rps: number; latencyDistribution: { percentage: number; latency: number }[] };
const p = (q: number) => (r.latencyDistribution.find((d) => d.percentage === q)?.latency ?? NaN) / 1e6;
console.log(`${values.method}${values.train ? ' (training)' : ''}: ${r.count} calls, ${r.rps.toFixed(0)}/s, p50 ${p(50).toFixed(1)} ms, p99 ${p(99).toFixed(1)} ms; server process CPU ${((cpu.user + cpu.system) / r.count).toFixed(1)} us/call (user ${(cpu.user / r.count).toFixed(1)}, sys ${(cpu.system / r.count).toFixed(1)})`);
// where the process's CPU went, by thread kind (main thread, V8's GC/compiler helpers, libuv's pool...)
const byName = new Map<string, number>();
for (const [tid, t] of threadTicks()) {
  const name = tid === String(process.pid) ? 'main thread' : t.name;
  byName.set(name, (byName.get(name) ?? 0) + t.ticks - (threads0.get(tid)?.ticks ?? 0));
}
const tickUs = 1e6 / 100; // USER_HZ
gcObserver.disconnect();
console.log(`main-thread GC pauses (us/call): ${[...gcPause].map(([k, ms]) => `${k} ${((ms * 1000) / r.count).toFixed(1)}`).join(', ') || 'none'}`);
console.log(`CPU by thread (us/call): ${[...byName].filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1]).map(([n, t]) => `${n} ${((t * tickUs) / r.count).toFixed(1)}`).join(', ')}`);
console.log(`request rules: ${validationStats.skipped - skipped0} of ${r.count} requests let through as known valid`);
console.log(`group commit: ${groupCommitStats.records - gc0.records} appends (a batch of subnets drawn ahead is one) in ${groupCommitStats.fsyncs - gc0.fsyncs} durable writes`);
stream?.cancel();
client.close();
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
