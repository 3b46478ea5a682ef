/**
 * Runs tasks one after another in the order they were queued: each starts once the one before it
 * has settled, whether it resolved or threw. `run` settles as its own task does; a failure does
 * not stop the queue.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
