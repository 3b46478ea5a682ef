import { mkdir, readFile, readdir, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { AlreadyExistsError, syncDir, writeFileAtomic } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { TOKENS } from '../tokens.ts';
import type { ServerConfig } from '../config.ts';
import type { ExperimentRecord, MetricRecord } from '../domain/experiment-spec.ts';
import { GroupCommitLog } from './group-commit-log.ts';

/** What the server remembers about an experiment's progress between checkpoints (`state.json`). */
export interface StoredProgress {
  step: number;
  checkpointStep: number;
  lastLosses: Record<string, number>;
  phase: string;
  /** The strategy's `state()` at the last checkpoint. */
  strategyState: unknown;
  backend: string;
  /** Last metric sequence the checkpointed strategy state has seen. */
  metricSequence: number;
  updateTime: string;
}

/**
 * Stored data of an experiment that cannot be used as it is. The message names the file (by its
 * name in the experiment directory, never a server path) and what is wrong with it.
 */
export class StoredDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoredDataError';
  }
}

/** Experiment ids: `[a-z0-9][a-z0-9-]{0,62}`. */
export const EXPERIMENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The data directory: `<dataDir>/experiments/<id>/` holds `spec.json`, `subnets.jsonl` (every
 * handed-out subnet id and its architecture) and `metrics.jsonl` (both append-only with group
 * commit: appends waiting together share one fsync, each acknowledged once it is durable),
 * `state.json` (progress at the last checkpoint), `latency-table.json` (the latency table measured
 * on this host for `measureLatency`, so a restart reuses it) and `checkpoints/` (written by the engine).
 */
@injectable()
export class ExperimentStore {
  readonly root: string;
  /** The open append logs by file name, then experiment id (no path is joined per append). */
  private readonly logs = { 'subnets.jsonl': new Map<string, GroupCommitLog>(), 'metrics.jsonl': new Map<string, GroupCommitLog>() };

  constructor(
    @inject(TOKENS.Config) config: ServerConfig,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {
    this.root = path.resolve(config.dataDir, 'experiments');
  }

  /** Creates the data directory when missing. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  /** Directory the engine writes checkpoints into. */
  checkpointDir(id: string): string {
    return path.join(this.dir(id), 'checkpoints');
  }

  /**
   * Ids of stored experiments, sorted. A directory holding nothing but an unfinished spec.json
   * write (temp files, an empty checkpoints/) is a creation that never finished and was never
   * acknowledged: it is removed. Any other directory is listed, with or without spec.json (loading
   * then reports what is missing).
   */
  async listIds(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true });
    const ids: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !EXPERIMENT_ID_PATTERN.test(e.name)) continue;
      const files = await readdir(path.join(this.root, e.name));
      if (!files.includes('spec.json')) {
        const checkpoints = files.includes('checkpoints') ? await readdir(this.checkpointDir(e.name)).catch(() => ['?']) : [];
        if (checkpoints.length === 0 && files.every((f) => f === 'checkpoints' || f.endsWith('.tmp'))) {
          await this.delete(e.name);
          this.logger.warn({ experiment: e.name }, 'removed the directory of a creation that never finished');
          continue;
        }
      }
      ids.push(e.name);
    }
    return ids.sort();
  }

  /** Writes a new experiment's spec. Throws AlreadyExistsError when the id is taken. */
  async create(record: ExperimentRecord): Promise<void> {
    const dir = this.dir(record.id);
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AlreadyExistsError('EXPERIMENT_ALREADY_EXISTS', `experiment '${record.id}' already exists`);
      }
      throw err;
    }
    await mkdir(this.checkpointDir(record.id));
    await writeFileAtomic(path.join(dir, 'spec.json'), JSON.stringify(record, null, 2));
    await syncDir(this.root);
  }

  /** The stored record. Throws StoredDataError when spec.json is missing, empty or not a record of `id`. */
  async readRecord(id: string): Promise<ExperimentRecord> {
    const v = await this.readJsonFile(id, 'spec.json');
    if (v === undefined) throw new StoredDataError('spec.json is missing');
    const problem = recordProblem(v, id);
    if (problem) throw new StoredDataError(`spec.json ${problem}`);
    return v as ExperimentRecord;
  }

  /** Parsed JSON of a file of the experiment; undefined when it does not exist. Throws StoredDataError. */
  private async readJsonFile(id: string, name: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir(id), name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoredDataError(`${name} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'I/O error'})`);
    }
    if (text.trim() === '') throw new StoredDataError(`${name} is empty`);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new StoredDataError(`${name} is not valid JSON (${(err as Error).message.slice(0, 120)})`);
    }
  }

  async writeProgress(id: string, progress: StoredProgress): Promise<void> {
    await writeFileAtomic(path.join(this.dir(id), 'state.json'), JSON.stringify(progress));
  }

  /** state.json, or undefined before the first checkpoint. Throws StoredDataError when it is damaged. */
  async readProgress(id: string): Promise<StoredProgress | undefined> {
    const v = await this.readJsonFile(id, 'state.json');
    if (v === undefined) return undefined;
    const problem = progressProblem(v);
    if (problem) throw new StoredDataError(`state.json ${problem}`);
    return v as StoredProgress;
  }

  /** Stores the experiment's measured latency table (ms per latencyKey). */
  async writeLatencyTable(id: string, table: Record<string, number>): Promise<void> {
    await writeFileAtomic(path.join(this.dir(id), 'latency-table.json'), JSON.stringify(table, null, 1));
  }

  /** The stored measured latency table, or undefined when none was measured yet. */
  async readLatencyTable(id: string): Promise<Record<string, number> | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.dir(id), 'latency-table.json'), 'utf8')) as Record<string, number>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private log(id: string, name: 'subnets.jsonl' | 'metrics.jsonl'): GroupCommitLog {
    const byId = this.logs[name];
    let log = byId.get(id);
    if (!log) {
      log = new GroupCommitLog(path.join(this.dir(id), name));
      byId.set(id, log);
    }
    return log;
  }

  /** Appends a handed-out subnet; resolves once it is durable (sharing the fsync with concurrent appends). */
  appendSubnet(id: string, subnetId: string, arch: Arch): Promise<void> {
    return this.log(id, 'subnets.jsonl').append(JSON.stringify({ id: subnetId, arch }));
  }

  /**
   * Appends lines made by `subnetLine` (several joined by '\n', as one append: one promise for them
   * all); resolves once all of them are durable, rejects when their write failed.
   */
  appendSubnetLines(id: string, lines: string): Promise<void> {
    return this.log(id, 'subnets.jsonl').append(lines);
  }

  /** Handed-out subnets; heals subnets.jsonl as `readJsonLines` describes. */
  async readSubnets(id: string): Promise<Map<string, Arch>> {
    const out = new Map<string, Arch>();
    const file = path.join(this.dir(id), 'subnets.jsonl');
    for (const rec of await this.readJsonLines(id, file, isSubnetLine)) out.set(rec.id, rec.arch);
    return out;
  }

  /**
   * Appends a metric; resolves once it is durable. Metrics appended while an fsync is in flight
   * share the next one (group commit), and reach the file in the order of the calls.
   */
  appendMetric(id: string, record: MetricRecord): Promise<void> {
    return this.log(id, 'metrics.jsonl').append(JSON.stringify(record));
  }

  /** Resolves once every append to the experiment's logs so far has been written or has failed. */
  async drainLogs(id: string): Promise<void> {
    for (const name of ['subnets.jsonl', 'metrics.jsonl'] as const) await this.logs[name].get(id)?.idle();
  }

  /**
   * Stored metrics in sequence order; heals metrics.jsonl as `readJsonLines` describes. A record
   * whose sequence is not above every earlier one is skipped (and logged), so sequences stay unique.
   */
  async readMetrics(id: string): Promise<MetricRecord[]> {
    const out: MetricRecord[] = [];
    let last = 0;
    for (const rec of await this.readJsonLines(id, path.join(this.dir(id), 'metrics.jsonl'), isMetricRecord)) {
      if (rec.sequence <= last) {
        this.logger.warn({ experiment: id, file: 'metrics.jsonl', sequence: rec.sequence }, 'skipped a metric record with a repeated sequence');
        continue;
      }
      last = rec.sequence;
      out.push(rec);
    }
    return out;
  }

  /**
   * The valid records of a JSON-lines file. A torn last line (no newline: an append cut short by a
   * crash, never acknowledged) is cut off the file, so the next append starts on a line of its
   * own; a line that is not valid JSON or not a valid record elsewhere is skipped. Both are logged.
   */
  private async readJsonLines<T>(id: string, file: string, valid: (v: unknown) => v is T): Promise<T[]> {
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoredDataError(`${path.basename(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'I/O error'})`);
    }
    const name = path.basename(file);
    const end = buf.lastIndexOf(0x0a) + 1;
    if (end < buf.length) {
      await truncate(file, end);
      this.logger.warn({ experiment: id, file: name, bytes: buf.length - end }, 'cut off a torn last line');
    }
    const out: T[] = [];
    const lines = buf.subarray(0, end).toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        v = undefined;
      }
      if (valid(v)) out.push(v);
      else this.logger.warn({ experiment: id, file: name, line: i + 1 }, 'skipped a damaged line');
    });
    return out;
  }

  /** Deletes everything stored for an experiment. */
  async delete(id: string): Promise<void> {
    await this.drainLogs(id);
    for (const name of ['subnets.jsonl', 'metrics.jsonl'] as const) this.logs[name].delete(id);
    await rm(this.dir(id), { recursive: true, force: true });
    await syncDir(this.root);
  }
}

/**
 * A subnets.jsonl line of subnet `subnetId` whose architecture has the `archKey` `key`, by
 * concatenation: the key is the architecture's canonical JSON (sorted members, empty channelIdx
 * and op left out), which parses back to an equal Arch, and the id was made from it anyway.
 */
export function subnetLine(subnetId: string, key: string): string {
  return `{"id":${JSON.stringify(subnetId)},"arch":${key}}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function isArch(v: unknown): v is Arch {
  return isObject(v) && typeof v.resolution === 'number' && isObject(v.width);
}

function isSubnetLine(v: unknown): v is { id: string; arch: Arch } {
  return isObject(v) && typeof v.id === 'string' && v.id !== '' && isArch(v.arch);
}

function isMetricRecord(v: unknown): v is MetricRecord {
  return (
    isObject(v) &&
    isCount(v.sequence) &&
    v.sequence > 0 &&
    typeof v.subnetId === 'string' &&
    isObject(v.values) &&
    Object.values(v.values).every((x) => typeof x === 'number' && Number.isFinite(x)) &&
    typeof v.clientId === 'string' &&
    typeof v.time === 'string'
  );
}

/** What is wrong with a parsed spec.json, or undefined. */
function recordProblem(v: unknown, id: string): string | undefined {
  if (!isObject(v)) return 'does not hold an object';
  if (v.id !== id) return `names the experiment ${JSON.stringify(String(v.id)).slice(0, 80)}, not its directory '${id}'`;
  if (typeof v.createTime !== 'string') return 'has no createTime';
  const spec = v.spec;
  if (!isObject(spec)) return 'has no spec';
  if (typeof spec.displayName !== 'string') return 'has no spec.displayName';
  if (!isObject(spec.space) || typeof spec.space.preset !== 'string') return 'has no spec.space.preset';
  if (!isObject(spec.strategy) || typeof spec.strategy.id !== 'string') return 'has no spec.strategy.id';
  const t = spec.training;
  if (!isObject(t) || !isObject(t.dataset) || !isObject(t.optimizer)) return 'has no complete spec.training';
  for (const k of ['batchSize', 'totalSteps', 'checkpointInterval'] as const) if (!isCount(t[k])) return `has no valid spec.training.${k}`;
  return undefined;
}

/** What is wrong with a parsed state.json, or undefined. */
function progressProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'does not hold an object';
  for (const k of ['step', 'checkpointStep', 'metricSequence'] as const) if (!isCount(v[k])) return `has no valid ${k}`;
  if (!isObject(v.lastLosses)) return 'has no lastLosses';
  for (const k of ['phase', 'backend', 'updateTime'] as const) if (typeof v[k] !== 'string') return `has no valid ${k}`;
  return undefined;
}
