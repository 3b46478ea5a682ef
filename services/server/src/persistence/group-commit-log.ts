import { open } from 'node:fs/promises';

/** The file operations a GroupCommitLog uses; tests pass their own to count or fail them. */
export interface LogIo {
  /** Opens `file` for appending (created when missing). */
  openAppend(file: string): Promise<{ write(data: string): Promise<unknown>; sync(): Promise<void>; close(): Promise<void> }>;
}

const nodeIo: LogIo = { openAppend: (file) => open(file, 'a') };

/** Process-wide counts of every GroupCommitLog: records made durable, fsyncs, failed batches. */
export const groupCommitStats = { records: 0, fsyncs: 0, failedBatches: 0 };

/**
 * An append-only JSON-lines file with group commit: every line appended while a write is in flight
 * waits for it, and then all of them go to the file in one write and one fsync. Each `append`
 * resolves only once its own line is durable (after the fsync that covered it), and rejects when
 * that batch failed. Lines reach the file in the order `append` was called.
 *
 * A batch that failed may have left part of its bytes in the file; the next batch then starts with
 * a newline, so a later (acknowledged) line never shares a line with a torn one (readers skip
 * empty and damaged lines).
 */
export class GroupCommitLog {
  private pending: { line: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private running: Promise<void> | undefined;
  private afterFailure = false;

  constructor(
    readonly file: string,
    private readonly io: LogIo = nodeIo,
  ) {}

  /** Appends `line` (no newline in it) and resolves once it is on disk. */
  append(line: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves once every line appended so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      let data = '';
      if (this.afterFailure) data += '\n';
      for (const p of batch) data += `${p.line}\n`;
      try {
        const fh = await this.io.openAppend(this.file);
        try {
          await fh.write(data);
          await fh.sync();
          groupCommitStats.fsyncs++;
        } finally {
          await fh.close();
        }
        this.afterFailure = false;
        groupCommitStats.records += batch.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        this.afterFailure = true;
        groupCommitStats.failedBatches++;
        for (const p of batch) p.reject(err);
      }
    }
    this.running = undefined;
  }
}
