// workerNice: the experiment worker thread runs at that scheduling priority, the RPC thread keeps
// the process's. Read from /proc (Linux, where the setting applies).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { startServer } from '../src/index.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';

/** Nice value of each thread of this process, by thread id (field 19 of /proc/self/task/<tid>/stat). */
function threadNice(): Map<number, number> {
  return new Map(
    readdirSync('/proc/self/task').map((tid) => {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return [Number(tid), Number(fields[16])] as const;
    }),
  );
}

test('with workerNice the worker thread runs at that nice value, and the RPC thread does not', { skip: process.platform !== 'linux' && 'thread priorities are set on Linux only' }, async (t) => {
  const base = threadNice().get(process.pid)!;
  if (base >= 19) {
    t.skip('the tests already run at the lowest priority (nice 19)');
    return;
  }
  const want = Math.min(19, base + 7);
  assert.ok(![...threadNice().values()].includes(want), 'no thread at that nice value before the worker starts');
  const data = tempDir();
  const server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', workerNice: want });
  const client = connectClient(server.address);
  try {
    await client.createExperiment({ experimentId: 'nice', spec: tinySpec() });
    assert.equal((await client.trainStep({ experimentId: 'nice', input: { case: 'steps', value: 1 } })).step, 1n);
    const nice = threadNice();
    assert.equal(nice.get(process.pid), base, 'the RPC thread keeps its priority');
    assert.ok([...nice.values()].includes(want), `a thread at nice ${want}: ${JSON.stringify([...nice])}`);
  } finally {
    client.close();
    await server.stop();
    data.remove();
  }
});
