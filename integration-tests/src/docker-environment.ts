import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Repository root (the Docker build context). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let ready: Promise<void> | undefined;

/**
 * Makes sure a Docker engine answers and the base image exists, running `.ci/docker-setup.sh`
 * (idempotent) when `docker info` fails or the base image is missing, and configures testcontainers
 * for this machine: no Ryuk reaper (its image would come from a registry; every test removes its
 * own containers) and host 127.0.0.1 (containers run with host networking, so the bridge gateway
 * testcontainers looks for does not exist). Rejects with the setup script's output on failure.
 */
export function ensureDocker(): Promise<void> {
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  ready ??= (async () => {
    const up = await run('docker', ['image', 'inspect', baseImage()]).then(
      () => true,
      () => false,
    );
    if (up) return;
    try {
      await run('bash', [`${REPO_ROOT}.ci/docker-setup.sh`], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`.ci/docker-setup.sh failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  })();
  return ready;
}

/** Name of the base image the Dockerfile starts FROM. */
export function baseImage(): string {
  return process.env['SUPERNETD_BASE_IMAGE'] ?? 'node:20-bookworm-slim';
}
