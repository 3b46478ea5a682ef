import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOWED_IMPORTS, KNOWN_EXCEPTIONS, checkLayering, importsOf, judgeAgainstExceptions, packageOf } from '../layering.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('every workspace package imports only what docs/architecture.md allows', () => {
  const { unexpected, stale } = judgeAgainstExceptions(checkLayering(root));
  assert.deepEqual(
    unexpected.map((v) => `${v.where}: ${v.from} -> ${v.to}: ${v.why}`),
    [],
    'imports against the layering (scripts/layering.ts, docs/architecture.md)',
  );
  assert.deepEqual(
    stale.map((e) => `${e.from} -> ${e.to}`),
    [],
    'known exceptions that no import needs any more: remove them from KNOWN_EXCEPTIONS',
  );
});

test('every known exception gives its reason and names packages of the graph', () => {
  for (const e of KNOWN_EXCEPTIONS) {
    assert.ok(e.from in ALLOWED_IMPORTS && e.to in ALLOWED_IMPORTS, `${e.from} -> ${e.to}`);
    assert.ok(e.reason.length > 10, `${e.from} -> ${e.to} needs a reason`);
  }
});

test('import specifiers are read from declarations, re-exports, dynamic imports and require, with type-only ones marked', () => {
  const refs = importsOf(
    'x.ts',
    [
      "import { a } from '@s/one';",
      "import type { B } from '@s/two/sub';",
      "import { type C, type D } from '@s/three';",
      "export * from './local.ts';",
      "// import { z } from '@s/comment';",
      "const m = await import('@s/four');",
      "const r = require('plain');",
      "const s = 'import x from \"@s/string\"';",
    ].join('\n'),
  );
  assert.deepEqual(
    refs.map((r) => [r.specifier, r.typeOnly, r.line]),
    [
      ['@s/one', false, 1],
      ['@s/two/sub', true, 2],
      ['@s/three', true, 3],
      ['./local.ts', false, 4],
      ['@s/four', false, 6],
      ['plain', false, 7],
    ],
  );
  assert.equal(packageOf('@s/two/sub'), '@s/two');
  assert.equal(packageOf('commander'), 'commander');
  assert.equal(packageOf('node:fs'), undefined);
  assert.equal(packageOf('../x.ts'), undefined);
});

test('the check reports a forbidden import, an undeclared one, a forbidden dependency and a relative import out of the package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layering-'));
  try {
    const pkg = (path: string, json: object, files: Record<string, string>): void => {
      mkdirSync(join(dir, path, 'src'), { recursive: true });
      writeFileSync(join(dir, path, 'package.json'), JSON.stringify(json));
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, path, 'src', name), text);
    };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ workspaces: ['low', 'high', 'app'] }));
    pkg('low', { name: 'low', dependencies: { 'heavy-lib': '1' } }, { 'a.ts': "import { h } from 'high';\nimport type { T } from 'app';\n" });
    pkg('high', { name: 'high', dependencies: {} }, { 'b.ts': "import { l } from 'low';\nimport { x } from '../../low/src/a.ts';\n" });
    pkg('app', { name: 'app', dependencies: { low: '1', high: '1' } }, { 'c.ts': "import { l } from 'low/sub';\n" });
    const found = checkLayering(dir, { low: [], high: ['low'], app: ['low', 'high'] }, { low: ['heavy-'] });
    assert.deepEqual(
      found.map((v) => [v.where, v.to]),
      [
        ['low/package.json dependencies', 'heavy-lib'],
        ['low/src/a.ts:1', 'high'],
        ['low/src/a.ts:2', 'app'],
        ['high/src/b.ts:1', 'low'],
        ['high/src/b.ts:2', '../../low/src/a.ts'],
      ],
    );
    assert.match(found[3]!.why, /not in high's dependencies/);
    assert.deepEqual(checkLayering(dir, { low: [], high: ['low'] }, {}).filter((v) => v.from === 'app').map((v) => v.why), ['the package has no place in the layering graph']);
    const judged = judgeAgainstExceptions(found, [
      { from: 'low', to: 'high', reason: 'kept for the test' },
      { from: 'app', to: 'low', reason: 'no longer needed' },
    ]);
    assert.equal(judged.unexpected.length, 4);
    assert.deepEqual(judged.stale.map((e) => e.to), ['low']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
