/**
 * The load generators of `npm run bench:rpc`: ghz (a Go binary, when installed) or, without it, a
 * Node one on grpc-js run in a process of its own. Both keep `concurrency` calls in flight over
 * `connections` HTTP/2 connections for `seconds` and report throughput and latency percentiles.
 *
 * Run as a script, this file is the Node generator: `rpc-load.ts '<LoadJob as JSON>'` prints a
 * LoadResult as JSON.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';

/** One load case: which call, how hard, how long. */
export interface LoadJob {
  address: string;
  /** Full method name, `package.Service/Method`. */
  method: string;
  /** The request as proto JSON (for ghz) ... */
  json: unknown;
  /** ... and as its binary encoding, base64 (for the Node generator). */
  binary: string;
  /** ghz's proto file and import paths (comma-separated) for the method. */
  proto: { file: string; importPath: string };
  concurrency: number;
  connections: number;
  seconds: number;
}

export interface LoadResult {
  /** Calls completed (OK or not) in the measured time. */
  count: number;
  /** Calls that did not end OK, and one of their errors. */
  errors: number;
  firstError?: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time (user + system) the load generator itself spent per completed call, in microseconds. */
  clientCpuUs?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
/** ghz's import paths for supernetd's protos: the module roots of buf.yaml (proto, then the vendored ones). */
export const SUPERNETD_IMPORT_PATHS = ['proto', 'third_party/googleapis', 'third_party/bufbuild']
  .map((d) => path.join(repoRoot, d))
  .filter((d) => existsSync(d))
  .join(',');
/** Where `GOBIN=$PWD/node_modules/.cache/ghz go install github.com/bojand/ghz/cmd/ghz@v0.120.0` puts ghz. */
export const DEFAULT_GHZ = path.join(repoRoot, 'node_modules/.cache/ghz/ghz');

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Runs `job` with ghz at `ghzPath`. */
export function runGhz(ghzPath: string, job: LoadJob): Promise<LoadResult> {
  const [service, method] = job.method.replace(/^\//, '').split('/') as [string, string];
  const args = [
    '--insecure',
    '--proto', job.proto.file,
    '--import-paths', job.proto.importPath,
    '--call', `${service}.${method}`,
    '-d', JSON.stringify(job.json),
    '-c', String(job.concurrency),
    '--connections', String(job.connections),
    '-z', `${job.seconds}s`,
    // no total-count cap: -z alone decides when it stops
    '-n', '0',
    '-O', 'json',
    job.address,
  ];
  return new Promise((resolve, reject) => {
    // through bash, whose `times` then prints ghz's user and system CPU time (the second line)
    const p = spawn('bash', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'ghz', ghzPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      let r: {
        count: number;
        rps: number;
        latencyDistribution?: { percentage: number; latency: number }[] | null;
        statusCodeDistribution?: Record<string, number>;
        errorDistribution?: Record<string, number>;
      };
      try {
        r = JSON.parse(out) as typeof r;
      } catch {
        reject(new Error(`ghz exited ${code}: ${err.trim().slice(0, 500) || out.slice(0, 500)}`));
        return;
      }
      const at = (q: number) => (r.latencyDistribution ?? []).find((d) => d.percentage === q)?.latency ?? Number.NaN;
      const failed = Object.entries(r.statusCodeDistribution ?? {}).reduce((n, [k, v]) => (k === 'OK' ? n : n + v), 0);
      // ghz ends a -z run by closing its connections under the calls still in flight: those (at
      // most one per concurrent worker) are how the run stops, not failures of the server
      let cutOff = 0;
      const real: string[] = [];
      for (const [message, n] of Object.entries(r.errorDistribution ?? {})) {
        if (/closed network connection|transport is closing|context canceled|connection is closing/i.test(message)) cutOff += n;
        else real.push(message);
      }
      cutOff = Math.min(cutOff, job.concurrency);
      const errors = failed - cutOff;
      const firstError = real[0] ?? (errors > 0 ? Object.keys(r.errorDistribution ?? {})[0] : undefined);
      const times = [...err.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)].at(-1);
      const cpuS = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : Number.NaN;
      resolve({
        count: r.count - cutOff,
        errors,
        ...(firstError ? { firstError } : {}),
        rps: r.rps,
        p50Ms: at(50) / 1e6,
        p99Ms: at(99) / 1e6,
        clientCpuUs: (cpuS * 1e6) / Math.max(1, r.count),
      });
    });
  });
}

/** Runs `job` with the Node generator, in a child process. */
export function runNodeLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: here,
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch {
        reject(new Error(`node load generator exited ${code}: ${out.slice(0, 500)}`));
      }
    });
  });
}

/** ghz when it is installed at `ghzPath`, else undefined. */
export function ghzAt(ghzPath: string): string | undefined {
  return existsSync(ghzPath) ? ghzPath : undefined;
}

/** The Node generator's loop: `concurrency` workers round-robin over `connections` clients. */
async function nodeLoad(job: LoadJob): Promise<LoadResult> {
  const request = Buffer.from(job.binary, 'base64');
  const clients = Array.from(
    { length: job.connections },
    // a subchannel pool per client, so each client has a connection of its own
    () => new grpc.Client(job.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())))));
  const identity = (b: Buffer) => b;
  const call = (c: grpc.Client) =>
    new Promise<grpc.ServiceError | null>((resolve) => {
      c.makeUnaryRequest(job.method, identity, identity, request, (err) => resolve(err));
    });
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const end = started + job.seconds * 1000;
  const worker = async (i: number) => {
    const c = clients[i % clients.length] as grpc.Client;
    while (performance.now() < end) {
      const t0 = performance.now();
      const err = await call(c);
      const ms = performance.now() - t0;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = ms;
      if (err) {
        errors++;
        firstError ??= `${grpc.status[err.code] ?? err.code}: ${err.details}`;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, (_, i) => worker(i)));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const c of clients) c.close();
  const sorted = latencies.subarray(0, count).sort();
  return {
    count,
    errors,
    ...(firstError ? { firstError } : {}),
    rps: count / elapsed,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    clientCpuUs: (cpu.user + cpu.system) / Math.max(1, count),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const job = JSON.parse(process.argv[2] ?? '') as LoadJob;
  process.stdout.write(`${JSON.stringify(await nodeLoad(job))}\n`);
  process.exit(0);
}
