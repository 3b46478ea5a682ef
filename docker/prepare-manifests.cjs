// Build-stage helper (see Dockerfile): copies the root and workspace package.json files and the
// lock file to OUT_DIR, rewritten for a production install of the server:
// - the root's devDependencies are dropped except tsx, which becomes a dependency: the server runs
//   its TypeScript through tsx, so tsx is needed at run time;
// - unless WITH_NATIVE_TF=1, the optional native TensorFlow bindings (@tensorflow/tfjs-node*) are
//   dropped: the wasm image (Dockerfile) has no use for them. Dockerfile.native keeps them and
//   builds tfjs-node's binding with scripts/setup-tensorflow.sh.
// Only these files reach the install stage, so its layer stays cached while sources change.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [srcDir, outDir] = process.argv.slice(2);
if (!srcDir || !outDir) {
  console.error('usage: prepare-manifests.cjs SRC_DIR OUT_DIR');
  process.exit(2);
}
const withNativeTf = process.env.WITH_NATIVE_TF === '1' || process.env.WITH_NATIVE_TF === 'true';
const read = (rel) => JSON.parse(fs.readFileSync(path.join(srcDir, rel), 'utf8'));
const write = (rel, value) => {
  fs.mkdirSync(path.dirname(path.join(outDir, rel)), { recursive: true });
  fs.writeFileSync(path.join(outDir, rel), `${JSON.stringify(value, null, 2)}\n`);
};

const root = read('package.json');
const tsx = root.devDependencies && root.devDependencies.tsx;
if (!tsx) throw new Error('package.json: devDependencies.tsx is missing; the image runs the server through tsx');
delete root.devDependencies;
root.dependencies = { ...root.dependencies, tsx };
write('package.json', root);
fs.copyFileSync(path.join(srcDir, 'package-lock.json'), path.join(outDir, 'package-lock.json'));

for (const ws of root.workspaces || []) {
  const rel = path.join(ws, 'package.json');
  if (!fs.existsSync(path.join(srcDir, rel))) continue;
  const pkg = read(rel);
  if (!withNativeTf && pkg.optionalDependencies) {
    for (const name of Object.keys(pkg.optionalDependencies)) {
      if (name.startsWith('@tensorflow/tfjs-node')) delete pkg.optionalDependencies[name];
    }
  }
  write(rel, pkg);
}
