import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@supernetd/sdk';
import type { SearchOptions } from './search-args.ts';

/** Where one search run keeps its files. Relative paths inside are what report.md links to. */
export const RUN_FILES = {
  manifest: 'run.json',
  progress: 'progress.jsonl',
  probes: 'probes.jsonl',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  report: 'report.md',
  plots: 'plots',
  serverData: 'server-data',
} as const;

/** Folder of the exported model for a FLOPs target: `budget-<target as an integer>`. */
export function budgetDirName(target: number): string {
  return `budget-${Math.round(target)}`;
}

/** run.json: what `--resume` needs to re-attach. */
export interface RunManifest {
  version: 1;
  experimentId: string;
  /** `in-process` or the `host:port` used. */
  server: string;
  targetStep: number;
  options: SearchOptions;
  status: 'training' | 'interrupted' | 'evaluating' | 'done' | 'failed';
  /** Training wall time summed over every invocation, seconds. */
  trainSeconds: number;
  createdAt: string;
  updatedAt: string;
}

/** One Train progress event as stored in progress.jsonl. */
export interface ProgressRecord {
  step: number;
  targetStep: number;
  losses: Record<string, number>;
  learningRate: number;
  examplesPerSecond: number;
  phase: string;
  checkpointStep: number;
  /** Seconds since this CLI invocation started training (resets on --resume). */
  elapsedSeconds: number;
  time: string;
}

/** A strategy's deploy choice for a budget, sampled while training (probes.jsonl). */
export interface ProbeRecord {
  step: number;
  budget: number;
  subnetId: string;
  source: string;
  /** The strategy's score (PSS: pool priority, EMA of -CE); 0 when the strategy has none. */
  score: number;
  flops: number;
  time: string;
}

/** One entry of the experiment's metric log (metrics.jsonl), as ListMetrics returned it. */
export interface MetricLine {
  sequence: number;
  subnetId: string;
  values: Record<string, number>;
  clientId: string;
  time: string;
}

/** A file of an exported model. */
export interface ExportedFileInfo {
  path: string;
  size: number;
  sha256: string;
}

/** The result for one budget. */
export interface BudgetResult {
  kind: 'flops';
  target: number;
  subnetId: string;
  source: string;
  score: number;
  architecture: {
    resolution: number;
    widths: Record<string, number>;
    channelIndices?: Record<string, number[]>;
    ops?: Record<string, number>;
  };
  cost: { flops: number; params: number; latencyMs: number };
  /** Test accuracy in [0, 1] after BN recalibration. */
  accuracy: number;
  loss: number;
  examples: number;
  /** Folder (relative to the run directory) with model.json, weights.bin, arch.json. */
  exportDir: string;
  files: ExportedFileInfo[];
}

/** summary.json: the machine-readable result of a run. */
export interface RunSummary {
  version: 1;
  strategy: string;
  space: string;
  dataset: string;
  experimentId: string;
  backend: string;
  seed: number;
  batchSize: number;
  targetStep: number;
  stepsDone: number;
  quick: boolean;
  /** Training wall time of the invocation that finished the run, seconds. */
  trainSeconds: number;
  /** Training wall time over every invocation (first run plus resumes), seconds. */
  totalTrainSeconds: number;
  finalLosses: Record<string, number>;
  spaceCost: { minFlops: number; maxFlops: number };
  budgets: BudgetResult[];
  /** Free-text remarks about what the report could and could not show. */
  notes: string[];
  finishedAt: string;
}

/** Paths and atomic reads/writes of a run directory. */
export class RunDir {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  async ensure(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** Writes `data` atomically (`writeFileAtomic`), so readers never see half a file, nor a crash an empty one. */
  async writeAtomic(rel: string, data: string | Uint8Array): Promise<void> {
    await writeFileAtomic(this.path(rel), data);
  }

  async writeJson(rel: string, value: unknown): Promise<void> {
    await this.writeAtomic(rel, `${JSON.stringify(value, null, 2)}\n`);
  }

  async readJson<T>(rel: string): Promise<T | undefined> {
    const text = await readFile(this.path(rel), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async appendJsonl(rel: string, records: readonly unknown[]): Promise<void> {
    if (records.length === 0) return;
    await appendFile(this.path(rel), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** Reads a JSON-lines file; a missing file is empty and a torn last line (killed writer) is skipped. */
  async readJsonl<T>(rel: string): Promise<T[]> {
    const text = await readFile(this.path(rel), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const out: T[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        out.push(JSON.parse(line) as T);
      } catch (err) {
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== '')) throw err;
      }
    });
    return out;
  }
}
