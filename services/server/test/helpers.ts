// Shared pieces of the server tests: the TypeScript client (@supernetd/client) over a real socket,
// spec builders, status checks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, SupernetService, decodeStatusDetails, makeGrpcClientConstructor } from '@supernetd/api';
import type { GrpcClient } from '@supernetd/api';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { DEFAULT_RETRY_POLICY, SupernetdClient, SupernetdError } from '@supernetd/client';
import type { SupernetdClientOptions } from '@supernetd/client';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';

type MethodsOf<T> = T extends GenService<infer S extends GenServiceMethods> ? S : never;
export type Methods = MethodsOf<typeof SupernetService>;
export type SupernetClient = GrpcClient<Methods>;

const SupernetClientCtor = makeGrpcClientConstructor(SupernetService);

/**
 * The TypeScript client of the server at `address`, as the tests call it: plaintext and no token
 * whatever the environment says (`opts.token` sends one), no deadline unless a call sets
 * `timeoutMs`, and no retries, so that a test sees every status the server sends.
 */
export function connectClient(address: string, opts: SupernetdClientOptions = {}): SupernetdClient {
  return new SupernetdClient({ address, tls: false, token: '', timeoutMs: Infinity, retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 }, ...opts });
}

/**
 * The bare generated grpc-js stub at `address`, only for what the client does not send: a request
 * without a request_id, a page size or one page of a paged list, mutated messages on a default
 * channel (the fuzz test). Call it with `unary`; everything else goes through `connectClient`.
 */
export function connect(address: string, opts: grpc.ClientOptions = {}): SupernetClient {
  return new SupernetClientCtor(address, grpc.credentials.createInsecure(), opts);
}

/** The real `supernetd` command, as users start it. */
export const SUPERNETD_BIN = fileURLToPath(new URL('../src/bin/supernetd.mjs', import.meta.url));

/** A `supernetd serve` child process on a free port, once it listens. */
export interface CliServer {
  proc: ChildProcess;
  address: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `supernetd serve` on `dataDir` (wasm, port 0) with `env`, and resolves with its address once it listens. */
export async function spawnCliServer(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<CliServer> {
  const proc = spawn(process.execPath, [SUPERNETD_BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--backend', 'wasm', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    void exited.then(({ code }) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  return { proc, address, exited };
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'supernetd-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * One real server for a test file: started on a free port with a data dir of its own (wasm backend,
 * silent) before the file's tests, stopped and its data dir removed after them. `server` and
 * `client` (connectClient's) are set once the `before` hook ran.
 */
export function serverForFile(): { server: RunningServer; client: SupernetdClient; dataDir: string } {
  const data = tempDir();
  const t = { dataDir: data.dir } as { server: RunningServer; client: SupernetdClient; dataDir: string };
  before(async () => {
    t.server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
    t.client = connectClient(t.server.address);
  });
  after(async () => {
    t.client?.close();
    await t.server?.stop();
    data.remove();
  });
  return t;
}

type UnaryKeys = { [K in keyof Methods]: Methods[K]['methodKind'] extends 'unary' ? K : never }[keyof Methods];
type ReqOf<K extends keyof Methods> = MessageInitShape<Methods[K]['input']>;
type ResOf<K extends keyof Methods> = MessageShape<Methods[K]['output']>;

/** Calls a unary method of the bare stub and resolves with its response; rejects with the grpc ServiceError. */
export function unary<K extends UnaryKeys>(
  client: SupernetClient,
  method: K,
  req: ReqOf<K>,
  opts: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<ResOf<K>> {
  const desc = SupernetService.method[method].input as DescMessage;
  const msg = create(desc, req as never);
  const callOpts: Partial<grpc.CallOptions> = {};
  if (opts.deadlineMs !== undefined) callOpts.deadline = Date.now() + opts.deadlineMs;
  return new Promise((resolve, reject) => {
    const fn = client[method] as unknown as (
      r: unknown,
      md: grpc.Metadata,
      o: Partial<grpc.CallOptions>,
      cb: (err: grpc.ServiceError | null, res?: unknown) => void,
    ) => void;
    fn.call(client, msg, opts.metadata ?? new grpc.Metadata(), callOpts, (err, res) => (err ? reject(err) : resolve(res as ResOf<K>)));
  });
}

/**
 * Asserts a call (of the client, or of the bare stub) failed with this status code and ErrorReason,
 * and its message matches; resolves with the failure as the client's SupernetdError.
 */
export async function assertStatus(p: Promise<unknown>, code: grpc.status, reason: string | undefined, message?: RegExp): Promise<SupernetdError> {
  try {
    await p;
  } catch (e) {
    const err = SupernetdError.from(e);
    assert.equal(grpc.status[err.code], grpc.status[code], `code of: ${err.details}`);
    if (reason !== undefined) {
      // the standard google.rpc.Status details as the client decoded them
      assert.equal(err.reasonName, `ERROR_REASON_${reason}`, `ErrorInfo.reason of: ${err.details}`);
      assert.equal(err.domain, ERROR_DOMAIN);
      // the trailer itself (its status code) and the compatibility echo, from the grpc-js error
      const raw = (err.cause ?? e) as Partial<grpc.ServiceError>;
      const bin = raw.metadata?.get(STATUS_DETAILS_KEY)[0];
      assert.ok(Buffer.isBuffer(bin), `${STATUS_DETAILS_KEY} of: ${err.details}`);
      assert.equal(decodeStatusDetails(bin)?.code, err.code);
      assert.equal(raw.metadata?.get('supernetd-error-reason')[0], `ERROR_REASON_${reason}`, `reason of: ${err.details}`);
    }
    if (message) assert.match(err.details, message);
    return err;
  }
  assert.fail(`expected ${grpc.status[code]} (${reason ?? ''})`);
}

/** The smallest useful experiment: mbv1-small on a slice of fashion-mnist. */
export function tinySpec(over: { strategy?: string; config?: Record<string, unknown>; checkpointInterval?: number; seed?: number; totalSteps?: bigint } = {}) {
  return {
    displayName: 'test',
    searchSpace: { preset: 'mbv1-small' },
    strategy: { id: over.strategy ?? 'uniform', config: (over.config ?? {}) as never },
    training: {
      dataset: { name: 'fashion-mnist', maxTrainExamples: 256, maxTestExamples: 64 },
      batchSize: 16,
      totalSteps: over.totalSteps ?? 20n,
      seed: over.seed ?? 1,
      checkpointInterval: over.checkpointInterval ?? 50,
    },
  };
}

/** Reads a Prometheus metric value with the given labels from `/metrics`. */
export async function scrape(metricsPort: number, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}
