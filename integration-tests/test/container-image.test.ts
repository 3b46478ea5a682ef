// The image itself: its HEALTHCHECK (grpc.health.v1) turns healthy, the server runs as the
// unprivileged `node` user and writes its state to the /data volume, and SIGTERM stops it cleanly.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  connectClient,
  makeDataDir,
  removeDataDir,
  serverImage,
  smallSpec,
  SupernetdContainer,
} from '../src/index.ts';

const run = promisify(execFile);

let dataDir: string;
let server: SupernetdContainer | undefined;

before(async () => {
  dataDir = await makeDataDir('image');
});

after(async () => {
  await server?.remove();
  await removeDataDir(dataDir);
});

test('image metadata: non-root user, /data volume, SIGTERM stop signal, gRPC health check', async () => {
  const image = await serverImage();
  const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{json .Config}}', image]);
  const config = JSON.parse(stdout) as {
    User: string;
    Volumes: Record<string, unknown> | null;
    StopSignal: string;
    Healthcheck?: { Test: string[] };
    Env: string[];
  };
  assert.equal(config.User, 'node');
  assert.ok(config.Volumes && '/data' in config.Volumes, 'declares /data as a volume');
  assert.equal(config.StopSignal, 'SIGTERM');
  assert.deepEqual(config.Healthcheck?.Test, ['CMD', 'node', 'docker/healthcheck.cjs']);
  for (const env of ['SUPERNETD_HOST=0.0.0.0', 'SUPERNETD_PORT=50051', 'SUPERNETD_DATA_DIR=/data']) {
    assert.ok(config.Env.includes(env), `sets ${env}`);
  }
});

test('the image HEALTHCHECK turns healthy, the server runs as uid 1000 and stores state in /data', async () => {
  server = await SupernetdContainer.start({ dataDir, imageHealthCheckTiming: true });
  assert.equal(await server.health(), 'healthy');
  const { stdout: uid } = await run('docker', ['exec', server.id, 'id', '-u']);
  assert.equal(uid.trim(), '1000');

  const client = connectClient(server.address);
  try {
    const strategies = await client.listStrategies();
    assert.ok(strategies.some((s) => s.id === 'uniform'), 'uniform strategy is registered');
    await client.createExperiment({ experimentId: 'image-check', spec: smallSpec({ name: 'image check' }) });
  } finally {
    client.close();
  }
  const written = await readdir(dataDir, { recursive: true });
  assert.ok(written.some((p) => p.includes('image-check')), `the experiment is stored under /data (found: ${written.join(', ')})`);
  const owner = await stat(dataDir);
  assert.equal(owner.uid, 1000);
});

test('SIGTERM on an idle server exits 0', async () => {
  assert.ok(server, 'server started by the previous test');
  await server.signal('SIGTERM');
  assert.equal(await server.waitForExit(), 0, await server.logs());
});
