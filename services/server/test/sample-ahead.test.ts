// SampleSubnet draws ahead for calls that wait for the disk together (ExperimentSession.sample):
// every handed-out id is durable and known after a restart, a reported metric drops what was drawn
// before it, and one call at a time never draws ahead. Real gRPC, real files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ConstraintKind, SamplePurpose } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const data = tempDir();
let server: RunningServer;
let client: SupernetdClient;

async function restart(): Promise<void> {
  client?.close();
  await server?.stop();
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
  client = connectClient(server.address);
}

before(restart);
after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

/** Ids in the experiment's subnets.jsonl (lines written so far). */
function storedIds(id: string): string[] {
  const text = readFileSync(path.join(data.dir, 'experiments', id, 'subnets.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { id: string }).id);
}

/** A FLOPs bound about half of all subnets fit (the median of 15 unconstrained samples), and their ids. */
async function medianFlops(id: string): Promise<{ target: number; ids: string[] }> {
  const res = await client.sampleSubnet({ experimentId: id, count: 15 });
  const flops = res.map((s) => Number(s.cost?.flops)).sort((a, b) => a - b);
  return { target: flops[7]!, ids: res.map((s) => s.id) };
}

const burst = (id: string, target: number, purpose: SamplePurpose, n: number) =>
  Promise.all(
    Array.from({ length: n }, () =>
      client.sampleSubnet({ experimentId: id, purpose, constraint: { kind: ConstraintKind.FLOPS, target } }).then((r) => r[0]!),
    ),
  );

/**
 * Bursts of concurrent calls until subnets.jsonl holds more ids than were handed out, i.e. the
 * server drew ahead (the call that first draws ahead waits for the same write as those lines).
 */
async function burstUntilDrawnAhead(id: string, target: number, purpose: SamplePurpose): Promise<Set<string>> {
  const handed = new Set<string>();
  for (let round = 0; round < 20; round++) {
    for (const s of await burst(id, target, purpose, 64)) {
      assert.ok(Number(s.cost?.flops) <= target, `${s.id} fits the constraint`);
      handed.add(s.id);
    }
    const stored = new Set(storedIds(id));
    for (const h of handed) assert.ok(stored.has(h), `handed-out ${h} is in subnets.jsonl when its call returns`);
    if (stored.size > handed.size) return handed;
  }
  assert.fail('64 concurrent calls of one constraint never drew ahead in 20 rounds');
}

test('concurrent calls of one constraint draw ahead; every handed-out id is durable and known after a restart', async () => {
  const id = 'ahead';
  await client.createExperiment({ experimentId: id, spec: tinySpec() });
  const { target } = await medianFlops(id);
  const handed = await burstUntilDrawnAhead(id, target, SamplePurpose.EVAL);

  await restart();
  for (const subnetId of handed) {
    const r = await client.reportMetric({ experimentId: id, subnetId, metrics: { accuracy: 0.5 } });
    assert.ok(r > 0n);
  }
});

test('a reported metric drops the subnets drawn ahead before it: the next deploy sample is the reported one', async () => {
  const id = 'ahead-deploy';
  await client.createExperiment({ experimentId: id, spec: tinySpec() });
  const { target } = await medianFlops(id);
  const handed = await burstUntilDrawnAhead(id, target, SamplePurpose.DEPLOY);
  // uniform: deploy answers the best reported subnet that fits, once there is one
  const best = [...handed][0]!;
  await client.reportMetric({ experimentId: id, subnetId: best, metrics: { accuracy: 0.9 } });
  const next = await client.sampleSubnet({
    experimentId: id,
    purpose: SamplePurpose.DEPLOY,
    constraint: { kind: ConstraintKind.FLOPS, target },
  });
  assert.equal(next[0]!.id, best);
  assert.equal(next[0]!.source, 'reported');
});

test('one call at a time never draws ahead: subnets.jsonl holds exactly the handed-out ids', async () => {
  const id = 'one-at-a-time';
  await client.createExperiment({ experimentId: id, spec: tinySpec() });
  const { target, ids } = await medianFlops(id);
  const handed = new Set<string>(ids);
  for (let i = 0; i < 40; i++) {
    const r = await client.sampleSubnet({ experimentId: id, constraint: { kind: ConstraintKind.FLOPS, target } });
    handed.add(r[0]!.id);
  }
  const stored = storedIds(id);
  assert.equal(stored.length, handed.size, `${stored.length} lines for ${handed.size} handed-out ids`);
  assert.deepEqual(new Set(stored), handed);
});
