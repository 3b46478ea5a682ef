import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { AlreadyExistsError } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { TOKENS } from '../tokens.ts';
import type { ServerConfig } from '../config.ts';
import type { ExperimentRecord, MetricRecordDomain } from '../domain/experiment-spec.ts';
import { appendLineDurable, syncDir, writeFileAtomic } from './atomic-file.ts';

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

/** Experiment ids: `[a-z0-9][a-z0-9-]{0,62}`. */
export const EXPERIMENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * The data directory: `<dataDir>/experiments/<id>/` holds `spec.json`, `subnets.jsonl` (every
 * handed-out subnet id and its architecture), `metrics.jsonl` (append-only, fsynced per record),
 * `state.json` (progress at the last checkpoint), `latency-table.json` (the latency table measured
 * on this host for `measureLatency`, so a restart reuses it) and `checkpoints/` (written by the engine).
 */
@injectable()
export class ExperimentStore {
  readonly root: string;

  constructor(@inject(TOKENS.Config) config: ServerConfig) {
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

  /** Ids of stored experiments (those with a spec.json), sorted. */
  async listIds(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true });
    const ids: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !EXPERIMENT_ID_PATTERN.test(e.name)) continue;
      try {
        await stat(path.join(this.root, e.name, 'spec.json'));
        ids.push(e.name);
      } catch {
        // a directory without spec.json is a creation that never finished
      }
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

  async readRecord(id: string): Promise<ExperimentRecord> {
    return JSON.parse(await readFile(path.join(this.dir(id), 'spec.json'), 'utf8')) as ExperimentRecord;
  }

  async writeProgress(id: string, progress: StoredProgress): Promise<void> {
    await writeFileAtomic(path.join(this.dir(id), 'state.json'), JSON.stringify(progress));
  }

  async readProgress(id: string): Promise<StoredProgress | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.dir(id), 'state.json'), 'utf8')) as StoredProgress;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
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

  /** Appends a handed-out subnet durably. */
  async appendSubnet(id: string, subnetId: string, arch: Arch): Promise<void> {
    await appendLineDurable(path.join(this.dir(id), 'subnets.jsonl'), JSON.stringify({ id: subnetId, arch }));
  }

  async readSubnets(id: string): Promise<Map<string, Arch>> {
    const out = new Map<string, Arch>();
    for (const rec of await readJsonLines<{ id: string; arch: Arch }>(path.join(this.dir(id), 'subnets.jsonl'))) {
      out.set(rec.id, rec.arch);
    }
    return out;
  }

  /** Appends a metric and fsyncs before resolving. */
  async appendMetric(id: string, record: MetricRecordDomain): Promise<void> {
    await appendLineDurable(path.join(this.dir(id), 'metrics.jsonl'), JSON.stringify(record));
  }

  async readMetrics(id: string): Promise<MetricRecordDomain[]> {
    return readJsonLines<MetricRecordDomain>(path.join(this.dir(id), 'metrics.jsonl'));
  }

  /** Deletes everything stored for an experiment. */
  async delete(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
    await syncDir(this.root);
  }
}

async function readJsonLines<T>(file: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line torn by a crash mid-append was never acknowledged to a client; skip it
    }
  }
  return out;
}
