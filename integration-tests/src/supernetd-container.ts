import { execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GenericContainer, Wait } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';
import { freeLoopbackPort } from './free-port.ts';
import { serverImage } from './server-image.ts';

const run = promisify(execFile);

/** uid:gid of the image's `node` user, which must own the data directory. */
const IMAGE_UID = 1000;
const IMAGE_GID = 1000;

/** How to start one server container. */
export interface SupernetdContainerOptions {
  /** Host directory bind-mounted at /data; reuse it to restart a server on the same state. */
  dataDir: string;
  /** gRPC port on 127.0.0.1 (host networking); a free one when omitted. */
  port?: number;
  /** Prometheus metrics port on 127.0.0.1; a free one when omitted. */
  metricsPort?: number;
  /** Extra environment (SUPERNETD_* configuration). */
  env?: Record<string, string>;
  /** Image to run; the working tree's image (`serverImage()`) when omitted. */
  image?: string;
  /**
   * Keep the image's own HEALTHCHECK timing (5 s interval). By default the test polls the same
   * check script every 500 ms so that a start is not held up by the interval.
   */
  imageHealthCheckTiming?: boolean;
}

/** A running supernetd container with host networking, listening on 127.0.0.1 only. */
export class SupernetdContainer {
  private constructor(
    readonly container: StartedTestContainer,
    /** gRPC address, `127.0.0.1:<port>`. */
    readonly address: string,
    readonly port: number,
    readonly metricsPort: number,
    readonly dataDir: string,
  ) {}

  /** Docker's id of the container. */
  get id(): string {
    return this.container.getId();
  }

  /**
   * Builds the image if needed, starts a container on `opts.dataDir` and resolves once Docker
   * reports it healthy (grpc.health.v1 answers SERVING). Rejects with the container's log when it
   * does not become healthy within two minutes.
   */
  static async start(opts: SupernetdContainerOptions): Promise<SupernetdContainer> {
    const image = opts.image ?? (await serverImage());
    const port = opts.port ?? (await freeLoopbackPort());
    const metricsPort = opts.metricsPort ?? (await freeLoopbackPort());
    let builder = new GenericContainer(image)
      .withNetworkMode('host')
      .withBindMounts([{ source: opts.dataDir, target: '/data', mode: 'rw' }])
      .withEnvironment({
        SUPERNETD_HOST: '127.0.0.1',
        SUPERNETD_PORT: String(port),
        SUPERNETD_METRICS_PORT: String(metricsPort),
        ...opts.env,
      })
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(120_000);
    if (!opts.imageHealthCheckTiming) {
      builder = builder.withHealthCheck({
        test: ['CMD', 'node', 'docker/healthcheck.cjs'],
        interval: 500,
        timeout: 5_000,
        retries: 3,
        startPeriod: 120_000,
      });
    }
    try {
      const container = await builder.start();
      return new SupernetdContainer(container, `127.0.0.1:${port}`, port, metricsPort, opts.dataDir);
    } catch (err) {
      throw new Error(`supernetd container did not become healthy: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Sends `signal` to the server process (PID 1 of the container). */
  async signal(signal: 'SIGKILL' | 'SIGTERM' | 'SIGINT'): Promise<void> {
    await run('docker', ['kill', '--signal', signal, this.id]);
  }

  /**
   * `docker stop`: the image's STOPSIGNAL (SIGTERM), then SIGKILL after `graceSeconds`. Returns the
   * exit code (0 when the server shut down by itself in time, 137 when it had to be killed).
   */
  async stop(graceSeconds = 10): Promise<number> {
    await run('docker', ['stop', '--time', String(graceSeconds), this.id]);
    return this.waitForExit();
  }

  /** Waits for the container to exit and returns its exit code. */
  async waitForExit(): Promise<number> {
    const { stdout } = await run('docker', ['wait', this.id]);
    return Number(stdout.trim());
  }

  /** Docker's health status (`starting`, `healthy`, `unhealthy`). */
  async health(): Promise<string> {
    const { stdout } = await run('docker', ['inspect', '--format', '{{.State.Health.Status}}', this.id]);
    return stdout.trim();
  }

  /** The container's stdout and stderr so far. */
  async logs(): Promise<string> {
    const { stdout, stderr } = await run('docker', ['logs', this.id], { maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
  }

  /**
   * Saves the container's log to `$SUPERNETD_IT_LOG_DIR` (default `<tmpdir>/supernetd-it-logs`),
   * then force-removes the container (whatever state it is in); the data directory stays.
   */
  async remove(): Promise<void> {
    const dir = process.env['SUPERNETD_IT_LOG_DIR'] ?? join(tmpdir(), 'supernetd-it-logs');
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${this.id.slice(0, 12)}.log`), await this.logs());
    } catch {
      // the log is a diagnostic; removal must still happen
    }
    await run('docker', ['rm', '--force', '--volumes', this.id]).catch(() => undefined);
  }
}

/**
 * A fresh host directory for /data, owned by the image's `node` user (uid 1000) so the server can
 * write it. Remove it with `removeDataDir`.
 */
export async function makeDataDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `supernetd-it-${label}-`));
  await mkdir(dir, { recursive: true });
  if (process.getuid?.() === 0) await chown(dir, IMAGE_UID, IMAGE_GID);
  else await run('chmod', ['0777', dir]);
  return dir;
}

/**
 * Deletes a data directory made by `makeDataDir`. Files the container wrote belong to uid 1000, so
 * without root this may fail; the directory is then left in the temp dir with a note.
 */
export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
    console.log(`# left ${dir} behind: ${(err as Error).message}`);
  });
}
