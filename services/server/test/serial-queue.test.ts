// SerialQueue: the order the experiment session writes records in and the worker runs engine work
// in. Tasks never overlap, run in queue order, and a failing task fails only its own caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialQueue } from '../src/util/serial-queue.ts';

/** A promise with its resolve and reject. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('a task starts only once the one before it has settled, in queue order', async () => {
  const q = new SerialQueue();
  const events: string[] = [];
  const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
  const runs = gates.map((g, i) =>
    q.run(async () => {
      events.push(`start ${i}`);
      await g.promise;
      events.push(`end ${i}`);
      return i;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['start 0'], 'the second task started before the first settled');
  // settling them out of order changes nothing: 2 waits for 1, which waits for 0
  gates[2]?.resolve();
  gates[1]?.resolve();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['start 0']);
  gates[0]?.resolve();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
  assert.deepEqual(events, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
});

test('a failing task rejects its own run only; the next task still runs after it', async () => {
  const q = new SerialQueue();
  const order: string[] = [];
  const failed = q.run(async () => {
    order.push('a');
    throw new Error('task a failed');
  });
  const thrown = q.run(() => {
    order.push('b');
    throw new Error('task b threw synchronously');
  });
  const ok = q.run(() => {
    order.push('c');
    return 'c done';
  });
  await assert.rejects(failed, /task a failed/);
  await assert.rejects(thrown, /task b threw synchronously/);
  assert.equal(await ok, 'c done');
  assert.deepEqual(order, ['a', 'b', 'c']);
});

test('takes plain values as well as promises, and runs a task queued from inside another after it', async () => {
  const q = new SerialQueue();
  const order: string[] = [];
  let inner: Promise<string> | undefined;
  const outer = q.run(async () => {
    inner = q.run(() => {
      order.push('inner');
      return 'inner';
    });
    await new Promise((r) => setImmediate(r));
    order.push('outer');
    return 'outer';
  });
  assert.equal(await outer, 'outer');
  assert.equal(await inner, 'inner');
  assert.deepEqual(order, ['outer', 'inner']);
});
