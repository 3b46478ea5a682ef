import { open } from 'node:fs/promises';

/** The file operations a GroupCommitLog uses; tests pass their own to count or fail them. */
export interface LogIo {
  /**
   * Opens `file` for appending (created when missing). A handle with `syncedWrites` is durable once
   * `write` resolves (opened O_SYNC), and `sync` is not called.
   */
  openAppend(file: string): Promise<{ write(data: string): Promise<unknown>; sync(): Promise<void>; close(): Promise<void>; syncedWrites?: boolean }>;
}

/**
 * The file opened O_APPEND | O_SYNC ('as'): a write returns once its bytes and the file's metadata
 * are on disk, as write then fsync would, in one thread-pool round trip instead of two.
 */
const nodeIo: LogIo = {
  openAppend: async (file) => {
    const fh = await open(file, 'as');
    return { write: (d: string) => fh.write(d), sync: () => fh.sync(), close: () => fh.close(), syncedWrites: true };
  },
};

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
 *
 * The file stays open between batches: an open and a close are two more round trips through the
 * thread pool and the event loop per batch, which every append of the batch would wait through
 * (under SampleSubnet load they took half of each batch's time). It is closed after a failed batch
 * (the next one opens it again), by `idle()`, and once no line came for CLOSE_AFTER_MS.
 */
export class GroupCommitLog {
  private pending: { line: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private running: Promise<void> | undefined;
  private afterFailure = false;
  private fh: Awaited<ReturnType<LogIo['openAppend']>> | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  /** How long the file stays open without an append. */
  static readonly CLOSE_AFTER_MS = 1000;

  constructor(
    readonly file: string,
    private readonly io: LogIo = nodeIo,
  ) {}

  /**
   * Appends `line` and resolves once it is on disk. It may hold several lines joined by '\n' (no
   * trailing newline): they go out in the same write and are acknowledged together.
   */
  append(line: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves once every line appended so far has been written (or has failed), with the file closed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
    await this.close();
  }

  /** Closes the file unless a batch is being written (a failed close loses nothing: the lines are durable). */
  private async close(): Promise<void> {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    if (this.running) return;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      let data = '';
      if (this.afterFailure) data += '\n';
      for (const p of batch) data += `${p.line}\n`;
      try {
        this.fh ??= await this.io.openAppend(this.file);
        await this.fh.write(data);
        if (!this.fh.syncedWrites) await this.fh.sync();
        groupCommitStats.fsyncs++;
        this.afterFailure = false;
        groupCommitStats.records += batch.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        this.afterFailure = true;
        groupCommitStats.failedBatches++;
        // opened again for the next batch (the file may have been replaced, or the handle be bad)
        const fh = this.fh;
        this.fh = undefined;
        await fh?.close().catch(() => undefined);
        for (const p of batch) p.reject(err);
      }
    }
    this.running = undefined;
    if (this.fh) {
      this.closeTimer = setTimeout(() => void this.close(), GroupCommitLog.CLOSE_AFTER_MS);
      this.closeTimer.unref();
    }
  }
}
