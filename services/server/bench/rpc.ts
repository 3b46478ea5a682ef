/**
 * The RPC path of supernetd beside a bare grpc-js server, in one run:
 *
 *   npm run bench:rpc -- [--quick] [--seconds 8] [--concurrency 50] [--connections 2]
 *                        [--report-clients 32] [--loadgen auto|ghz|node] [--ghz PATH]
 *                        [--engine-threads N]
 *
 * Starts three servers, each in a process of its own: a bare grpc-js server with only the standard
 * health service; supernetd (wasm backend) holding one small experiment (mbv1-small on a slice of
 * Fashion-MNIST); and a bare grpc-js server that answers GetExperiment and SampleSubnet with the
 * reply bytes supernetd gave for the same request (the same-reply peer: what grpc-js itself does
 * with a reply of that size, so the load generator's decoding is the same on both sides). Then
 * drives them with the same load generator (ghz when installed, else a Node one on grpc-js; the
 * first line says which): `concurrency` calls in flight over `connections` connections for
 * `seconds` per case. Every supernetd case is measured right after a bare Health/Check run and a
 * same-reply run under the same conditions (the same background training for the cases that run
 * while a Train stream trains the experiment). Its first line gives throughput and p99 as ratios to
 * the Health/Check run, its second line as ratios to the same-reply run, with the CPU time per call
 * of each server process and of the load generator.
 * ReportMetric (which the bare server has no counterpart of) gets its absolute p50 under
 * `report-clients` concurrent callers. `--quick` runs 1.5 s per case, to check the benchmark works;
 * its numbers mean nothing. `--engine-threads N` gives supernetd's experiment worker N wasm threads
 * (0, the default: every core, as the server's own default). Exits 1 when a case had failed calls.
 *
 * ghz: GOBIN=$PWD/node_modules/.cache/ghz go install github.com/bojand/ghz/cmd/ghz@v0.120.0
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import {
  ConstraintKind,
  GetExperimentRequestSchema,
  ReportMetricRequestSchema,
  SampleSubnetRequestSchema,
  SupernetService,
  makeGrpcClientConstructor,
} from '@supernetd/api';
import type { TrainResponse } from '@supernetd/api';
import { DEFAULT_GHZ, SUPERNETD_IMPORT_PATHS, ghzAt, repoRoot, runGhz, runNodeLoad } from './rpc-load.ts';
import type { LoadJob, LoadResult } from './rpc-load.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    concurrency: { type: 'string', default: '50' },
    connections: { type: 'string', default: '2' },
    'report-clients': { type: 'string', default: '32' },
    loadgen: { type: 'string', default: 'auto' },
    ghz: { type: 'string', default: process.env.GHZ ?? DEFAULT_GHZ },
    'engine-threads': { type: 'string', default: '0' },
  },
});
const seconds = Number(values.seconds ?? (values.quick ? 1.5 : 8));
const concurrency = Number(values.concurrency);
const connections = Number(values.connections);
const reportClients = Number(values['report-clients']);
const engineThreads = Number(values['engine-threads']);
if (
  ![seconds, concurrency, connections, reportClients].every((n) => Number.isFinite(n) && n > 0) ||
  !['auto', 'ghz', 'node'].includes(values.loadgen) ||
  !(Number.isInteger(engineThreads) && engineThreads >= 0)
) {
  console.error('usage: rpc.ts [--quick] [--seconds S] [--concurrency N] [--connections N] [--report-clients N] [--loadgen auto|ghz|node] [--ghz PATH] [--engine-threads N]');
  process.exit(2);
}
const ghz = values.loadgen === 'node' ? undefined : ghzAt(values.ghz);
if (values.loadgen === 'ghz' && !ghz) {
  console.error(`ghz not found at ${values.ghz}; install it with: GOBIN=$PWD/node_modules/.cache/ghz go install github.com/bojand/ghz/cmd/ghz@v0.120.0`);
  process.exit(2);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const HEALTH = '/grpc.health.v1.Health/Check';
const HEALTH_PROTO = { file: path.join(repoRoot, 'node_modules/grpc-health-check/proto/health/v1/health.proto'), importPath: repoRoot };
const SUPERNETD_PROTO = { file: path.join(repoRoot, 'proto/supernetd/v1/supernet_service.proto'), importPath: SUPERNETD_IMPORT_PATHS };
const EXPERIMENT = 'bench-rpc';

/** A server process of rpc-servers.ts and its address. */
async function startChild(args: string[]): Promise<{ child: ChildProcess; address: string }> {
  const child = fork(path.join(here, 'rpc-servers.ts'), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const address = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { address: string }) => resolve(m.address));
    child.once('exit', (code) => reject(new Error(`${args[0]} server exited ${code} before listening`)));
  });
  return { child, address };
}

/** CPU time (user + system, all threads) of a server process so far, in microseconds. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof m !== 'object' || m === null || !('cpu' in m)) return;
      child.off('message', on);
      const c = (m as { cpu: NodeJS.CpuUsage }).cpu;
      resolve(c.user + c.system);
    };
    child.on('message', on);
    child.send('cpu');
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A SupernetService request as the load generators take it. */
function request<D extends DescMessage>(schema: D, init: MessageInitShape<D>, json: unknown) {
  return { json, binary: Buffer.from(toBinary(schema, create(schema, init))).toString('base64') };
}

/** One load case against a server, with that server process's CPU time per call. */
interface Measured extends LoadResult {
  serverCpuUs: number;
}

async function load(server: { child: ChildProcess; address: string }, method: string, req: { json: unknown; binary: string }, clients = concurrency): Promise<Measured> {
  const job: LoadJob = {
    address: server.address,
    method,
    ...req,
    proto: method === HEALTH ? HEALTH_PROTO : SUPERNETD_PROTO,
    concurrency: clients,
    connections,
    seconds,
  };
  const before = await cpuOf(server.child);
  const r = await (ghz ? runGhz(ghz, job) : runNodeLoad(job));
  return { ...r, serverCpuUs: ((await cpuOf(server.child)) - before) / Math.max(1, r.count) };
}

const failures: string[] = [];
const fmt = (n: number | undefined, digits = 2) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const generator = ghz ? 'ghz' : 'node generator';

function checkErrors(name: string, r: LoadResult): string {
  if (r.errors === 0) return '';
  failures.push(`${name}: ${r.errors} of ${r.count} calls failed (${r.firstError ?? '?'})`);
  return `  [${r.errors} failed calls]`;
}

/** One case's line: ratios to the bare run beside it, then CPU per call (server, load generator). */
function ratioLine(name: string, r: Measured, bare: Measured, serverCpuNote = ''): void {
  const line =
    `${name.padEnd(40)} throughput ${fmt(r.rps / bare.rps).padStart(5)}x bare (${fmt(r.rps, 0)}/s vs ${fmt(bare.rps, 0)}/s)` +
    `   p99 ${fmt(r.p99Ms / bare.p99Ms).padStart(5)}x bare (${fmt(r.p99Ms, 1)} ms vs ${fmt(bare.p99Ms, 1)} ms)` +
    `   CPU/call: server ${fmt(r.serverCpuUs, 0)} us${serverCpuNote} vs bare ${fmt(bare.serverCpuUs, 0)} us, ${generator} ${fmt(r.clientCpuUs, 0)} us vs ${fmt(bare.clientCpuUs, 0)} us`;
  console.log(line + checkErrors(name, r) + checkErrors(`${name}: bare beside it`, bare));
}

/** The second line of a case: the same numbers as ratios to the same-reply peer's run. */
function sameReplyLine(name: string, r: Measured, same: Measured): void {
  const line =
    `${'  vs bare sending the same reply'.padEnd(40)} throughput ${fmt(r.rps / same.rps).padStart(5)}x (${fmt(r.rps, 0)}/s vs ${fmt(same.rps, 0)}/s)` +
    `   p99 ${fmt(r.p99Ms / same.p99Ms).padStart(5)}x (${fmt(r.p99Ms, 1)} ms vs ${fmt(same.p99Ms, 1)} ms)` +
    `   CPU/call: server ${fmt(same.serverCpuUs, 0)} us, ${generator} ${fmt(same.clientCpuUs, 0)} us on the peer`;
  console.log(line + checkErrors(`${name}: same-reply peer beside it`, same));
}

/** The reply bytes of one unary call, undecoded. */
function rawReply(address: string, route: string, base64Request: string): Promise<Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const identity = (b: Buffer) => b;
  return new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(route, identity, identity, Buffer.from(base64Request, 'base64'), (err, res) => (err || !res ? reject(err ?? new Error('no reply')) : resolve(res))),
  ).finally(() => client.close());
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'supernetd-bench-rpc-'));
const children: ChildProcess[] = [];
let train: grpc.ClientReadableStream<TrainResponse> | undefined;
try {
  const sup = await startChild(['supernetd', dataDir, String(engineThreads)]);
  children.push(sup.child);
  const Client = makeGrpcClientConstructor(SupernetService);
  const client = new Client(sup.address, grpc.credentials.createInsecure());
  const unary = <T>(method: 'createExperiment' | 'sampleSubnet', req: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const msg = create(SupernetService.method[method].input as DescMessage, req as never);
      const fn = (client as unknown as Record<string, (r: unknown, cb: (e: grpc.ServiceError | null, res: T) => void) => void>)[method]!;
      fn.call(client, msg, (err, res) => (err ? reject(err) : resolve(res)));
    });

  await unary('createExperiment', {
    experimentId: EXPERIMENT,
    spec: {
      displayName: 'bench:rpc',
      searchSpace: { preset: 'mbv1-small' },
      strategy: { id: 'uniform' },
      training: {
        dataset: { name: 'fashion-mnist', maxTrainExamples: 256, maxTestExamples: 64 },
        batchSize: 16,
        totalSteps: 1_000_000n,
        seed: 1,
        checkpointInterval: 1000,
      },
    },
  });
  // the FLOPs target: the median of a few unconstrained samples, so about half of all draws fit
  const flops: number[] = [];
  for (let i = 0; i < 15; i++) {
    const r = await unary<{ subnets: { id: string; cost?: { flops: number } }[] }>('sampleSubnet', { experimentId: EXPERIMENT });
    flops.push(r.subnets[0]?.cost?.flops ?? 0);
  }
  flops.sort((a, b) => a - b);
  const target = flops[7] as number;
  const subnet = (await unary<{ subnets: { id: string }[] }>('sampleSubnet', { experimentId: EXPERIMENT })).subnets[0]!.id;

  const health = { json: {}, binary: '' };
  const get = request(GetExperimentRequestSchema, { experimentId: EXPERIMENT }, { experimentId: EXPERIMENT });
  const sample = request(
    SampleSubnetRequestSchema,
    { experimentId: EXPERIMENT, constraint: { kind: ConstraintKind.FLOPS, target } },
    { experimentId: EXPERIMENT, constraint: { kind: 'CONSTRAINT_KIND_FLOPS', target } },
  );
  const report = request(
    ReportMetricRequestSchema,
    { experimentId: EXPERIMENT, subnetId: subnet, metrics: { accuracy: 0.5 }, clientId: 'bench' },
    { experimentId: EXPERIMENT, subnetId: subnet, metrics: { accuracy: 0.5 }, clientId: 'bench' },
  );
  const method = (m: string) => `/supernetd.v1.SupernetService/${m}`;

  // The peers: a bare Health/Check server, and one that answers GetExperiment and SampleSubnet with
  // a reply supernetd gave for the same request (so the load generator decodes the same bytes)
  const repliesFile = path.join(dataDir, 'same-replies.json');
  const getReply = await rawReply(sup.address, method('GetExperiment'), get.binary);
  const sampleReply = await rawReply(sup.address, method('SampleSubnet'), sample.binary);
  writeFileSync(repliesFile, JSON.stringify({ [method('GetExperiment')]: getReply.toString('base64'), [method('SampleSubnet')]: sampleReply.toString('base64') }));
  const bare = await startChild(['bare']);
  children.push(bare.child);
  const sameReply = await startChild(['same-reply', repliesFile]);
  children.push(sameReply.child);

  console.log(
    `bench:rpc  load generator: ${ghz ? `ghz (${path.relative(repoRoot, ghz) || ghz})` : `node (grpc-js, in its own process${values.loadgen === 'auto' ? `; no ghz at ${values.ghz}` : ''})`}  ` +
      `${concurrency} concurrent, ${connections} connections, ${seconds} s per case, ` +
      `supernetd's wasm threads: ${engineThreads === 0 ? 'every core' : engineThreads}${values.quick ? ' (--quick: a check that it runs, not a measurement)' : ''}`,
  );
  console.log(`${''.padEnd(11)}reply bytes: Health/Check 2, GetExperiment ${getReply.length}, SampleSubnet ${sampleReply.length}`);
  // warm both servers (JIT, connections) before anything is measured
  await Promise.all(
    [load(bare, HEALTH, health), load(sameReply, method('GetExperiment'), get), load(sup, method('GetExperiment'), get)].map((p) => p.catch(() => undefined)),
  );

  /**
   * A supernetd case right after a bare Health/Check run and (for a SupernetService method) a run
   * of the same-reply peer, under the same conditions.
   */
  const beside = async (name: string, m: string, req: { json: unknown; binary: string }, serverCpuNote = '') => {
    const baseline = await load(bare, HEALTH, health);
    const same = m === HEALTH ? undefined : await load(sameReply, m, req);
    const r = await load(sup, m, req);
    ratioLine(name, r, baseline, serverCpuNote);
    if (same) sameReplyLine(name, r, same);
  };
  await beside('supernetd Health/Check', HEALTH, health);
  await beside('GetExperiment', method('GetExperiment'), get);
  await beside(`SampleSubnet (FLOPs <= ${target})`, method('SampleSubnet'), sample);

  // a Train stream that runs through the cases below (and their bare runs), once its first progress event came
  const trainClient = new Client(sup.address, grpc.credentials.createInsecure());
  const stream = trainClient.train(create(SupernetService.method.train.input, { experimentId: EXPERIMENT, steps: 1_000_000, progressInterval: 5 }));
  train = stream;
  const trainEnded = new Promise<void>((resolve) => {
    stream.on('error', () => resolve());
    stream.on('end', () => resolve());
  });
  let lastStep = 0n;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (m: TrainResponse) => {
      lastStep = m.step;
      resolve();
    });
    stream.once('error', reject);
  });
  const stepBefore = lastStep;
  // the supernetd process's CPU includes the training thread here
  await beside('GetExperiment while a Train stream runs', method('GetExperiment'), get, ' (with training)');
  await beside('SampleSubnet while a Train stream runs', method('SampleSubnet'), sample, ' (with training)');
  const stepsDuring = lastStep - stepBefore;
  stream.cancel();
  await trainEnded;
  train = undefined;
  trainClient.close();
  if (stepsDuring <= 0n) failures.push('the Train stream reported no progress during its cases');
  console.log(`${''.padEnd(40)} (the Train stream took ${stepsDuring} steps during the cases above)`);

  const rep = await load(sup, method('ReportMetric'), report, reportClients);
  console.log(
    `${`ReportMetric, ${reportClients} clients`.padEnd(40)} p50 ${fmt(rep.p50Ms, 1)} ms, p99 ${fmt(rep.p99Ms, 1)} ms, ${fmt(rep.rps, 0)}/s (absolute: bare has no such call)` +
      checkErrors('ReportMetric', rep),
  );
  client.close();
} finally {
  train?.cancel();
  await Promise.all(children.map(stopChild));
  rmSync(dataDir, { recursive: true, force: true });
}
if (failures.length > 0) {
  for (const f of failures) console.error(`FAILED ${f}`);
  process.exit(1);
}
process.exit(0);
