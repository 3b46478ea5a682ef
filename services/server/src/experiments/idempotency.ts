import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { clone, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { AlreadyExistsError, InvalidArgumentError } from '@supernetd/sdk';
import type { RequestKey } from '../domain/experiment-spec.ts';
import { writeFileAtomic } from '@supernetd/sdk';
import { GroupCommitLog } from '../persistence/group-commit-log.ts';

/** Longest request_id, in characters. */
export const MAX_REQUEST_ID_CHARS = 128;

/**
 * How long request ids are remembered: per scope (an experiment, or the server's deletes) the
 * latest `count` ids, each for `ageMs`. A repeat past either bound is applied as a new request.
 */
export const REQUEST_ID_RETENTION = { count: 10_000, ageMs: 24 * 60 * 60 * 1000 } as const;

/**
 * Test-only: `SUPERNETD_TEST_KILL_AFTER_APPLY=<Method>` SIGKILLs the server right after that
 * method's change is durable and before its reply is sent, which is where a lost reply makes a
 * client retry. Read per call, so a test sets it for one server process only.
 */
const KILL_AFTER_APPLY_ENV = 'SUPERNETD_TEST_KILL_AFTER_APPLY';

/** Throws InvalidArgumentError unless `id` is a usable request_id (at most 128 printable ASCII characters). */
export function checkRequestId(id: string): void {
  if (id.length > MAX_REQUEST_ID_CHARS) {
    throw new InvalidArgumentError(`request_id has ${id.length} characters; the limit is ${MAX_REQUEST_ID_CHARS}`).with({ field: 'request_id' });
  }
  if (!/^[\x21-\x7e]+$/.test(id)) throw new InvalidArgumentError('request_id must be printable ASCII without spaces (a UUID)').with({ field: 'request_id' });
}

/** The fingerprint of a request: SHA-256 of its bytes with `request_id` cleared. */
export function requestFingerprint<D extends DescMessage>(schema: D, req: MessageShape<D> & { requestId: string }): string {
  const copy = clone(schema, req) as MessageShape<D> & { requestId: string };
  copy.requestId = '';
  return createHash('sha256').update(toBinary(schema, copy)).digest('base64url');
}

/** ALREADY_EXISTS(REQUEST_ID_REUSED): the id came before with a different request. */
export function requestIdReused(id: string): AlreadyExistsError {
  const shown = id.length > 64 ? `${id.slice(0, 63)}…` : id;
  return new AlreadyExistsError(
    'REQUEST_ID_REUSED',
    `request_id '${shown}' was already used with a different request; a retry must resend the same request, a new request needs a new id`,
  ).with({ field: 'request_id' });
}

/** A remembered request: its fingerprint, when it was applied (ms since the epoch) and its result. */
export interface Remembered<T> {
  hash: string;
  time: number;
  result: T;
}

/** Request ids of one scope, bounded by REQUEST_ID_RETENTION, oldest first. */
export class RecentRequests<T> {
  private readonly entries = new Map<string, Remembered<T>>();

  get(id: string, now = Date.now()): Remembered<T> | undefined {
    const e = this.entries.get(id);
    if (e && now - e.time > REQUEST_ID_RETENTION.ageMs) {
      this.entries.delete(id);
      return undefined;
    }
    return e;
  }

  remember(id: string, entry: Remembered<T>): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= REQUEST_ID_RETENTION.count) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entries still within the age bound, oldest first. */
  live(now = Date.now()): [string, Remembered<T>][] {
    return [...this.entries].filter(([, e]) => now - e.time <= REQUEST_ID_RETENTION.ageMs);
  }
}

/**
 * Runs a request that carries a request_id at most once (AIP-155). A repeat while the first is
 * running waits for the first's outcome; a repeat afterwards gets what `lookup` finds (the stored
 * result); a different request under the same id is REQUEST_ID_REUSED. `apply` must make its change
 * and the id durable together, so a crash between them cannot leave one without the other.
 */
export class IdempotentCalls {
  private readonly inFlight = new Map<string, { hash: string; result: Promise<unknown> }>();

  async run<T>(
    method: string,
    scope: string,
    request: RequestKey | undefined,
    lookup: (request: RequestKey) => Remembered<T> | undefined | Promise<Remembered<T> | undefined>,
    apply: () => Promise<T>,
  ): Promise<T> {
    if (!request) return apply();
    const key = `${method}\n${scope}\n${request.id}`;
    const flying = this.inFlight.get(key);
    if (flying) {
      if (flying.hash !== request.hash) throw requestIdReused(request.id);
      return flying.result as Promise<T>;
    }
    const result = (async () => {
      const seen = await lookup(request);
      if (seen) {
        if (seen.hash !== request.hash) throw requestIdReused(request.id);
        return seen.result;
      }
      const r = await apply();
      if (process.env[KILL_AFTER_APPLY_ENV] === method) process.kill(process.pid, 'SIGKILL');
      return r;
    })();
    this.inFlight.set(key, { hash: request.hash, result });
    try {
      return await result;
    } finally {
      this.inFlight.delete(key);
    }
  }
}

/** One line of a request log: the id, its fingerprint, when, and the encoded response. */
interface RequestLine {
  id: string;
  hash: string;
  time: string;
  response: string;
}

const isRequestLine = (v: unknown): v is RequestLine =>
  v !== null &&
  typeof v === 'object' &&
  typeof (v as RequestLine).id === 'string' &&
  typeof (v as RequestLine).hash === 'string' &&
  typeof (v as RequestLine).time === 'string' &&
  typeof (v as RequestLine).response === 'string';

/**
 * A durable request log (JSON lines, group commit: each append acknowledged once on disk) of the
 * ids of one scope and their encoded responses, for calls whose change has no record of its own to
 * carry the id (TrainStep, DeleteExperiment). Loaded on first use; a torn last line (a crash in an
 * append, never acknowledged) is ignored and cut off; a log holding more than twice the retention is
 * rewritten with only the retained lines.
 */
export class RequestLog {
  private log: GroupCommitLog | undefined;
  private loaded: Promise<RecentRequests<string>> | undefined;

  constructor(readonly file: string) {}

  recent(): Promise<RecentRequests<string>> {
    return (this.loaded ??= this.load());
  }

  private async load(): Promise<RecentRequests<string>> {
    const recent = new RecentRequests<string>();
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return recent;
      throw err;
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    const lines = complete.split('\n').filter((l) => l.trim() !== '');
    for (const line of lines) {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        continue;
      }
      if (isRequestLine(v)) recent.remember(v.id, { hash: v.hash, time: Date.parse(v.time), result: v.response });
    }
    if (complete.length < text.length || lines.length > 2 * REQUEST_ID_RETENTION.count) {
      const kept = recent.live().map(([id, e]) => JSON.stringify({ id, hash: e.hash, time: new Date(e.time).toISOString(), response: e.result }));
      await writeFileAtomic(this.file, kept.map((l) => `${l}\n`).join(''));
    }
    return recent;
  }

  /** Appends an id with its encoded response; resolves once it is on disk. */
  async append(request: RequestKey, response: Uint8Array): Promise<void> {
    const recent = await this.recent();
    const time = Date.now();
    const encoded = Buffer.from(response).toString('base64');
    this.log ??= new GroupCommitLog(this.file);
    await this.log.append(JSON.stringify({ id: request.id, hash: request.hash, time: new Date(time).toISOString(), response: encoded }));
    recent.remember(request.id, { hash: request.hash, time, result: encoded });
  }

  /** Resolves once every append so far is written, with the file closed. */
  async close(): Promise<void> {
    await this.log?.idle();
  }
}

/** The request logs of a data directory: one per experiment (`requests.jsonl` in its directory). */
export class RequestLogs {
  private readonly logs = new Map<string, RequestLog>();

  constructor(private readonly experimentsDir: string) {}

  of(experimentId: string): RequestLog {
    let log = this.logs.get(experimentId);
    if (!log) {
      log = new RequestLog(path.join(this.experimentsDir, experimentId, 'requests.jsonl'));
      this.logs.set(experimentId, log);
    }
    return log;
  }

  /** Closes and forgets an experiment's log (before its directory is deleted). */
  async forget(experimentId: string): Promise<void> {
    const log = this.logs.get(experimentId);
    this.logs.delete(experimentId);
    await log?.close();
  }
}
