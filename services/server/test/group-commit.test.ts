// Group commit of the append logs: appends waiting together share one fsync, each is
// acknowledged only once durable, in call order; a failed batch rejects its own appends only and
// never glues a later line onto a torn one. Over gRPC: many concurrent ReportMetric calls are all
// acknowledged, all there after a restart, with unique contiguous sequences and fewer fsyncs than
// records.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GroupCommitLog, groupCommitStats } from '../src/persistence/group-commit-log.ts';
import type { LogIo } from '../src/persistence/group-commit-log.ts';
import { startServer } from '../src/index.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';

/** File operations on an in-memory file that count fsyncs; `failWrites` fails the next writes. */
function memoryIo() {
  const io = {
    content: '',
    syncs: 0,
    opens: 0,
    closes: 0,
    failWrites: 0,
    openAppend: async () => {
      io.opens++;
      return {
        write: async (data: string) => {
          await new Promise((r) => setImmediate(r));
          if (io.failWrites > 0) {
            io.failWrites--;
            // a torn write: part of the data reached the file
            io.content += data.slice(0, Math.floor(data.length / 2));
            throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
          }
          io.content += data;
        },
        sync: async () => {
          await new Promise((r) => setImmediate(r));
          io.syncs++;
        },
        close: async () => {
          io.closes++;
        },
      };
    },
  };
  return io satisfies LogIo & Record<string, unknown>;
}

test('concurrent appends share fsyncs, each resolves after the fsync covering it, in call order', async () => {
  const io = memoryIo();
  const log = new GroupCommitLog('/mem/metrics.jsonl', io);
  const durableAt: number[] = [];
  const n = 200;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      log.append(JSON.stringify({ i })).then(() => {
        // resolved only once a sync happened after its line was written
        assert.ok(io.content.includes(`{"i":${i}}\n`), `line ${i} written before it resolved`);
        durableAt.push(io.syncs);
      }),
    ),
  );
  const lines = io.content.trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
  assert.deepEqual(lines, Array.from({ length: n }, (_, i) => i));
  assert.ok(io.syncs < n, `${io.syncs} fsyncs for ${n} appends`);
  assert.ok(io.syncs >= 1);
  assert.ok(durableAt.every((s) => s >= 1));
  await log.idle();
});

test('a failed batch rejects only its appends, and the next line starts on a line of its own', async () => {
  const io = memoryIo();
  const log = new GroupCommitLog('/mem/subnets.jsonl', io);
  await log.append('{"a":1}');
  io.failWrites = 1;
  await assert.rejects(log.append('{"a":2}'), /no space left/);
  await log.append('{"a":3}');
  const parsed = io.content.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { a: number }];
    } catch {
      return [];
    }
  });
  // the torn half of a:2 stays on a line of its own (readers skip it); a:3 is intact
  assert.deepEqual(parsed.map((p) => p.a), [1, 3]);
});

test('the file stays open from batch to batch, and is closed by idle(), after a failed batch and when no line comes', async () => {
  const io = memoryIo();
  const log = new GroupCommitLog('/mem/metrics.jsonl', io);
  for (let i = 0; i < 5; i++) await Promise.all([log.append(`{"a":${i}}`), log.append(`{"b":${i}}`)]);
  assert.equal(io.opens, 1, 'one open for batches that follow each other');
  assert.equal(io.closes, 0);
  await log.idle();
  assert.equal(io.closes, 1, 'idle() closes it');
  await log.append('{"c":1}');
  assert.equal(io.opens, 2, 'opened again after idle()');
  io.failWrites = 1;
  await assert.rejects(log.append('{"c":2}'), /no space left/);
  assert.equal(io.closes, 2, 'a failed batch closes it');
  await log.append('{"c":3}');
  assert.equal(io.opens, 3);
  await new Promise((r) => setTimeout(r, GroupCommitLog.CLOSE_AFTER_MS + 200));
  assert.equal(io.closes, 3, 'closed once no line came for a while');
  await log.idle();
  assert.equal(io.closes, 3);
});

test('concurrent ReportMetric: all acknowledged, all there after a restart, sequences unique and contiguous, fewer fsyncs than records', async () => {
  const data = tempDir();
  const cfg = { port: 0, dataDir: data.dir, logLevel: 'warn' as const, metricsPort: undefined, backend: 'wasm' as const };
  let server = await startServer(cfg);
  try {
    let client = connectClient(server.address);
    await client.createExperiment({ experimentId: 'gc', spec: tinySpec() });
    const subnets = await client.sampleSubnet({ experimentId: 'gc', count: 4 });
    const ids = subnets.map((s) => s.id);
    const n = 300;
    const before = { ...groupCommitStats };
    const sequences = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.reportMetric({ experimentId: 'gc', subnetId: ids[i % ids.length]!, metrics: { accuracy: i / n }, clientId: `c${i % 32}` }).then((seq) => Number(seq)),
      ),
    );
    const fsyncs = groupCommitStats.fsyncs - before.fsyncs;
    const records = groupCommitStats.records - before.records;
    assert.equal(records, n);
    assert.ok(fsyncs < records, `${fsyncs} fsyncs for ${records} records`);
    assert.deepEqual([...sequences].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1));
    // the file holds them in sequence order
    const onDisk = readFileSync(path.join(data.dir, 'experiments', 'gc', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { sequence: number }).sequence);
    assert.deepEqual(onDisk, Array.from({ length: n }, (_, i) => i + 1));
    client.close();

    await server.stop();
    server = await startServer(cfg);
    client = connectClient(server.address);
    const listed = await client.listMetrics({ experimentId: 'gc' });
    assert.deepEqual(
      listed.map((r) => Number(r.sequence)),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    // every acknowledged value is there, under the sequence it was acknowledged with
    const bySeq = new Map(listed.map((r) => [Number(r.sequence), r.values.accuracy]));
    sequences.forEach((seq, i) => assert.equal(bySeq.get(seq), i / n));
    const next = await client.reportMetric({ experimentId: 'gc', subnetId: ids[0]!, metrics: { accuracy: 1 } });
    assert.equal(Number(next), n + 1);
    client.close();
  } finally {
    await server.stop();
    data.remove();
  }
});
