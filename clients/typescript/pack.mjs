#!/usr/bin/env node
// Builds the publishable @supernetd/client: compiles src/ to JavaScript plus .d.ts in dist/ (tsc,
// tsconfig.build.json), stages dist/, README.md and a package.json whose exports point at dist/
// and whose only dependencies are the runtime ones of this package, then runs `npm pack` there.
//
//   node clients/typescript/pack.mjs [DEST_DIR]   # prints the tarball's path (default DEST_DIR: dist/)
//
// The workspace package itself stays private: in this repository it resolves to the TypeScript
// sources (tsx, no build step), which an installed package must not need.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const dest = resolve(process.argv[2] ?? join(here, 'dist'));

rmSync(join(here, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });

const workspace = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const manifest = {
  name: workspace.name,
  version: workspace.version,
  description: workspace.description,
  license: workspace.license,
  type: 'module',
  engines: workspace.engines,
  exports: {
    '.': { types: './dist/index.d.ts', default: './dist/index.js' },
    './proto': { types: './dist/proto.d.ts', default: './dist/proto.js' },
  },
  types: './dist/index.d.ts',
  files: ['dist', 'README.md'],
  dependencies: workspace.dependencies,
};
const stage = mkdtempSync(join(tmpdir(), 'supernetd-client-pack-'));
try {
  cpSync(join(here, 'dist'), join(stage, 'dist'), { recursive: true });
  cpSync(join(here, 'README.md'), join(stage, 'README.md'));
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: stage, encoding: 'utf8' });
  process.stdout.write(`${join(dest, out.trim().split('\n').pop())}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
