// The RPC thread's side of sharing datasets between experiment workers: the dataset sources (raw
// splits in SharedArrayBuffer memory) that live workers use. Plain Node: no TensorFlow.js here.
import type { SharedDataset } from '@supernetd/engine';

/**
 * The RPC thread's shelf: the sources its live experiment workers use, with how many use each. A
 * new worker is handed all of them; a source no worker uses any more is dropped (its memory is
 * freed once the last worker holding it ends).
 */
export class DatasetShelf {
  private readonly entries = new Map<string, { ds: SharedDataset; users: number }>();
  private loadCount = 0;

  /** The sources on the shelf, to hand to a new worker. */
  available(): SharedDataset[] {
    return [...this.entries.values()].map((e) => e.ds);
  }

  /**
   * A worker uses `ds`, which it read itself when `loaded` (else it was handed it): put it on the
   * shelf if it is new, and count the user.
   */
  acquire(ds: SharedDataset, loaded: boolean): void {
    if (loaded) this.loadCount++;
    if (ds.key === '') return;
    const e = this.entries.get(ds.key);
    if (e) e.users++;
    else this.entries.set(ds.key, { ds, users: 1 });
  }

  /** A worker that used source `key` ended. */
  release(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (--e.users <= 0) this.entries.delete(key);
  }

  /** Workers using source `key` now (0 when it is not on the shelf). */
  users(key: string): number {
    return this.entries.get(key)?.users ?? 0;
  }

  /** Sources workers of this process read from files or the built-in package so far. */
  loads(): number {
    return this.loadCount;
  }
}

/** The shelf of this process (the RPC thread's). */
export const processDatasets = new DatasetShelf();
