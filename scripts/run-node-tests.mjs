#!/usr/bin/env node
// Runs node:test over every *.test.ts under the given folders' test/ directories.
// Node 20's `node --test` does not expand glob patterns itself, so the files are collected here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = process.argv.slice(2);
if (roots.length === 0) {
  console.error('usage: run-node-tests.mjs DIR [DIR ...]   (each DIR is searched for test/**/*.test.ts)');
  process.exit(2);
}

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
}

const files = [];
for (const root of roots) {
  for (const pkg of existsSync(join(root, 'test')) ? [root] : readdirSync(root).map((n) => join(root, n))) {
    const t = join(pkg, 'test');
    if (existsSync(t) && statSync(t).isDirectory()) walk(t, files);
  }
}
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const rel = files.map((f) => relative(process.cwd(), f));
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...rel], { stdio: 'inherit' });
process.exit(res.status ?? 1);
