// collectExport over hand-made streams: what a well-formed export gives, and each way a stream can
// be malformed. (The live server's exports are covered by client.test.ts and the server's flow test.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ExportSubnetResponseSchema, collectExport } from '../src/index.ts';
import type { ExportSubnetResponse } from '../src/index.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function header(files: Record<string, Uint8Array>): ExportSubnetResponse {
  return create(ExportSubnetResponseSchema, {
    payload: {
      case: 'header',
      value: { subnet: { id: 'sn-1' }, files: Object.entries(files).map(([path, b]) => ({ path, size: BigInt(b.byteLength), sha256: sha(b) })) },
    },
  });
}

function chunk(path: string, offset: number, data: Uint8Array): ExportSubnetResponse {
  return create(ExportSubnetResponseSchema, { payload: { case: 'chunk', value: { path, offset: BigInt(offset), data } } });
}

async function* stream(...msgs: ExportSubnetResponse[]): AsyncGenerator<ExportSubnetResponse> {
  yield* msgs;
}

const model = bytes('{"modelTopology":{}}');
const weights = new Uint8Array([1, 2, 3, 4, 5]);

test('collectExport reassembles every file from its chunks and writes them under a directory', async () => {
  const exported = await collectExport(
    stream(header({ 'model.json': model, 'weights.bin': weights }), chunk('model.json', 0, model), chunk('weights.bin', 0, weights.subarray(0, 2)), chunk('weights.bin', 2, weights.subarray(2))),
  );
  assert.equal(exported.header.subnet?.id, 'sn-1');
  assert.deepEqual([...exported.files.keys()], ['model.json', 'weights.bin']);
  assert.deepEqual([...exported.files.get('weights.bin')!], [1, 2, 3, 4, 5]);
  const dir = await mkdtemp(join(tmpdir(), 'collect-export-'));
  try {
    assert.deepEqual(await exported.writeTo(dir), [join(dir, 'model.json'), join(dir, 'weights.bin')]);
    assert.equal(await readFile(join(dir, 'model.json'), 'utf8'), '{"modelTopology":{}}');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('collectExport refuses a malformed stream, naming what is wrong', async () => {
  const h = header({ 'weights.bin': weights });
  const cases: [ExportSubnetResponse[], RegExp][] = [
    [[], /without a header/],
    [[chunk('weights.bin', 0, weights), h], /before the header/],
    [[h, h], /second header/],
    [[h, chunk('other.bin', 0, weights)], /other\.bin, a file the header does not list/],
    [[h, chunk('weights.bin', 1, weights)], /at offset 1, expected 0/],
    [[h, chunk('weights.bin', 0, weights.subarray(0, 4))], /weights\.bin does not match its size or SHA-256 \(4 bytes of 5/],
    [[h, chunk('weights.bin', 0, new Uint8Array([1, 2, 3, 4, 6]))], /weights\.bin does not match its size or SHA-256/],
  ];
  for (const [msgs, message] of cases) await assert.rejects(collectExport(stream(...msgs)), message);
});

test('an export path that leads out of the directory is not written', async () => {
  const evil = bytes('x');
  const exported = await collectExport(stream(header({ '../evil.txt': evil }), chunk('../evil.txt', 0, evil)));
  const dir = await mkdtemp(join(tmpdir(), 'collect-export-'));
  try {
    await assert.rejects(exported.writeTo(join(dir, 'out')), /escapes the directory/);
    await assert.rejects(readFile(join(dir, 'evil.txt')), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
