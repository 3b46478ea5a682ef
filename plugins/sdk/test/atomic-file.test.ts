import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncDir, writeFileAtomic } from '../src/atomic-file.ts';

test('writeFileAtomic replaces the file with the whole new contents and leaves no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-file-'));
  try {
    const file = join(dir, 'state.json');
    await writeFile(file, 'old');
    await writeFileAtomic(file, '{"step":1}');
    assert.equal(await readFile(file, 'utf8'), '{"step":1}');
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await readFile(file))], [1, 2, 3]);
    await writeFileAtomic(file, [new Uint8Array([4]), new Uint8Array([5, 6]), new Int32Array([7])]);
    assert.deepEqual([...(await readFile(file))], [4, 5, 6, ...new Uint8Array(new Int32Array([7]).buffer)], 'the parts in order, as their bytes');
    await Promise.all(Array.from({ length: 8 }, (_, i) => writeFileAtomic(file, `writer ${i}`)));
    assert.match(await readFile(file, 'utf8'), /^writer [0-7]$/, 'concurrent writers do not share a temporary file');
    assert.deepEqual(await readdir(dir), ['state.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a write that cannot be renamed into place rejects, keeps the old file and removes its temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-file-'));
  try {
    // a directory in the way: the temporary file is written, the rename over a non-empty directory fails
    await writeFile(join(dir, 'keep'), 'x');
    await assert.rejects(writeFileAtomic(dir, 'data'), (err: NodeJS.ErrnoException) => typeof err.code === 'string');
    assert.deepEqual(await readdir(dir), ['keep']);
    const parent = join(dir, '..');
    assert.ok(!(await readdir(parent)).some((n) => n.startsWith(`${dir.slice(parent.length + 1)}.`)), 'no temporary file beside it');
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'f'), 'data'), { code: 'ENOENT' });
    await assert.rejects(syncDir(join(dir, 'missing')), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
