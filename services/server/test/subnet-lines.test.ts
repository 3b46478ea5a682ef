// The subnets.jsonl lines SampleSubnet writes are built by string concatenation from the arch's
// canonical key (subnetLine) and appended several at a time (appendSubnetLines). What a restart
// reads back must be exactly what was handed out: the same ids and architectures equal to the
// drawn ones, for random architectures of real spaces, written one line at a time and in batches.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import pino from 'pino';
import { Rng, archKey, randomArch, subnetId, subnetIdOfKey } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { resolveSpace } from '@supernetd/engine/space';
import type { ServerConfig } from '../src/config.ts';
import { ExperimentStore, subnetLine } from '../src/persistence/experiment-store.ts';
import { tempDir } from './helpers.ts';

test('subnet lines built from the arch key read back as the drawn ids and architectures, alone and in batches', async () => {
  const tmp = tempDir();
  after(tmp.remove);
  const store = new ExperimentStore({ dataDir: tmp.dir } as ServerConfig, pino({ level: 'silent' }));
  await store.init();
  const drawn = new Map<string, Arch>();
  const rng = new Rng(7);
  for (const preset of ['mbv2-small', 'mbv1-small', 'dna-small']) {
    const space = resolveSpace({ preset });
    const id = `lines-${preset}`;
    await mkdir(store.dir(id), { recursive: true });
    const expected = new Map<string, Arch>();
    let batch: string[] = [];
    for (let i = 0; i < 300; i++) {
      const arch = randomArch(space, rng);
      const key = archKey(arch);
      const sid = subnetIdOfKey(key);
      assert.equal(sid, subnetId(arch));
      expected.set(sid, arch);
      batch.push(subnetLine(sid, key));
      // batches of 1 to 9 lines, as drawing ahead writes them
      if (batch.length > i % 9) {
        await store.appendSubnetLines(id, batch.join('\n'));
        batch = [];
      }
    }
    if (batch.length > 0) await store.appendSubnetLines(id, batch.join('\n'));
    await store.drainLogs(id);
    const text = await readFile(`${store.dir(id)}/subnets.jsonl`, 'utf8');
    assert.equal(text.split('\n').filter((l) => l !== '').length, 300, 'one line per subnet');
    const read = await store.readSubnets(id);
    assert.equal(read.size, expected.size);
    for (const [sid, arch] of expected) {
      assert.deepEqual(read.get(sid), arch, `${preset}: ${sid}`);
      assert.equal(subnetId(read.get(sid)!), sid, 'the id of the architecture read back is the stored id');
    }
    for (const [k, v] of expected) drawn.set(k, v);
  }
  assert.ok(drawn.size > 800, 'random architectures were mostly distinct');
});
