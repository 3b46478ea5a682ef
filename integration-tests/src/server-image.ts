import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ensureDocker, REPO_ROOT } from './docker-environment.ts';

const run = promisify(execFile);

let built: Promise<string> | undefined;

/**
 * The supernetd image under test. With SUPERNETD_IMAGE set, that tag is used as it is (built
 * beforehand, e.g. by `.ci/docker-setup.sh --build`); otherwise the working tree is built with
 * `docker build --network host` (cached layers make a rebuild of an unchanged tree take seconds)
 * and tagged `supernetd:integration`. Extra CA certificates the build machine trusts for the npm
 * registry (/usr/local/share/ca-certificates/*.crt) are passed as the NPM_EXTRA_CA build argument.
 */
export function serverImage(): Promise<string> {
  built ??= (async () => {
    await ensureDocker();
    const given = process.env['SUPERNETD_IMAGE'];
    if (given) return given;
    const tag = 'supernetd:integration';
    const args = ['build', '--network', 'host', '-t', tag];
    const ca = await extraCaCertificates();
    if (ca) args.push('--build-arg', `NPM_EXTRA_CA=${ca}`);
    args.push('.');
    const started = Date.now();
    try {
      await run('docker', args, { cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`docker build failed: ${e.message}\n${(e.stdout ?? '').slice(-4000)}${e.stderr ?? ''}`);
    }
    console.log(`# image ${tag} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return tag;
  })();
  return built;
}

async function extraCaCertificates(): Promise<string | undefined> {
  const dir = '/usr/local/share/ca-certificates';
  const names = await readdir(dir).catch(() => [] as string[]);
  const pems = await Promise.all(names.filter((n) => n.endsWith('.crt')).sort().map((n) => readFile(`${dir}/${n}`, 'utf8')));
  // The same text as `$(cat /usr/local/share/ca-certificates/*.crt)` in .ci/docker-setup.sh, so
  // both builds share the cached dependency layer (a build argument is part of the cache key).
  return pems.length ? pems.join('').replace(/\n+$/, '') : undefined;
}

let nativeBuilt: Promise<string> | undefined;

/**
 * The image variant with the native TensorFlow backend (Dockerfile.native). With
 * SUPERNETD_NATIVE_IMAGE set, that tag is used as it is (built beforehand by
 * `.ci/docker-setup.sh --build-native`); otherwise that script builds the working tree as
 * `supernetd:native-integration`, handing it the tensorflow-cpu wheel `npm run setup:tensorflow`
 * cached (the build downloads it from PyPI when there is none).
 */
export function nativeServerImage(): Promise<string> {
  nativeBuilt ??= (async () => {
    await ensureDocker();
    const given = process.env['SUPERNETD_NATIVE_IMAGE'];
    if (given) return given;
    const tag = 'supernetd:native-integration';
    const started = Date.now();
    try {
      await run('bash', [`${REPO_ROOT}.ci/docker-setup.sh`, '--build-native'], {
        cwd: REPO_ROOT,
        env: { ...process.env, SUPERNETD_NATIVE_IMAGE: tag },
        maxBuffer: 256 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`native image build failed: ${e.message}\n${(e.stdout ?? '').slice(-4000)}${e.stderr ?? ''}`);
    }
    console.log(`# image ${tag} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return tag;
  })();
  return nativeBuilt;
}
