// Bearer-token auth, TLS, health and server reflection over real sockets.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { SupernetService } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connectClient, tempDir } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const run = promisify(execFile);
const TOKEN = 's3cret-token';
let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', authToken: TOKEN });
  client = connectClient(server.address);
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

function healthCheck(address: string, creds = grpc.credentials.createInsecure(), service = ''): Promise<string> {
  const Ctor = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  const c = new Ctor(address, creds) as unknown as grpc.Client & {
    check(req: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
  };
  return new Promise((resolve, reject) =>
    c.check({ service }, (err, r) => {
      c.close();
      if (err) reject(err);
      else resolve(r?.status ?? '');
    }),
  );
}

test('bearer token: missing or wrong -> UNAUTHENTICATED with its reason; right -> OK', async () => {
  await assertStatus(client.listStrategies(), grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED', /missing authorization/);
  const wrong = connectClient(server.address, { token: 'wrong' });
  const right = connectClient(server.address, { token: TOKEN });
  try {
    await assertStatus(wrong.listStrategies(), grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED', /invalid bearer token/);
    await assertStatus(client.getExperiment('x'), grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED', undefined);
    const ok = await right.listStrategies();
    assert.ok(ok.length > 0);
    await assertStatus(right.getExperiment('x'), grpc.status.NOT_FOUND, 'EXPERIMENT_NOT_FOUND', undefined);
  } finally {
    wrong.close();
    right.close();
  }
});

test('health needs no token: SERVING for "" and the service, NOT_FOUND for others', async () => {
  assert.equal(await healthCheck(server.address), 'SERVING');
  assert.equal(await healthCheck(server.address, undefined, 'supernetd.v1.SupernetService'), 'SERVING');
  await assert.rejects(healthCheck(server.address, undefined, 'nope'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
});

test('server reflection (v1 protocol, no token) lists and describes the services', async () => {
  const reflectionProto = path.join(path.dirname(require_resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, { keepCase: true, oneofs: true, longs: String, enums: String, defaults: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const c = new pkg.grpc.reflection.v1.ServerReflection(server.address, grpc.credentials.createInsecure());
  const call = (c as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Record<string, unknown>> }).ServerReflectionInfo();
  const responses: Record<string, unknown>[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: Record<string, unknown>) => responses.push(r));
    call.on('error', reject);
    call.on('end', resolve);
  });
  call.write({ list_services: '' });
  call.write({ file_containing_symbol: 'supernetd.v1.SupernetService' });
  call.end();
  await done;
  c.close();
  const services = (responses[0]?.list_services_response as { service: { name: string }[] }).service.map((s) => s.name).sort();
  assert.ok(services.includes('supernetd.v1.SupernetService'));
  assert.ok(services.includes('grpc.health.v1.Health'));
  const files = (responses[1]?.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
  const { fromBinary } = await import('@bufbuild/protobuf');
  const { FileDescriptorProtoSchema } = await import('@bufbuild/protobuf/wkt');
  const names = files.map((b) => fromBinary(FileDescriptorProtoSchema, b).name).sort();
  assert.ok(names.includes('supernetd/v1/supernet_service.proto'));
  assert.ok(names.includes('google/protobuf/struct.proto'), 'dependencies come along');
  const svc = files.map((b) => fromBinary(FileDescriptorProtoSchema, b)).flatMap((f) => f.service).find((s) => s.name === 'SupernetService');
  assert.deepEqual(
    svc?.method.map((m) => m.name).sort(),
    (SupernetService as unknown as { methods: { name: string }[] }).methods.map((m) => m.name).sort(),
  );
});

function require_resolve(id: string): string {
  return import.meta.resolve(id).replace('file://', '');
}

const grpcurl = [process.env.GRPCURL, path.join(os.homedir(), 'go/bin/grpcurl')].find((p): p is string => !!p && existsSync(p));

test('grpcurl list and describe work', { skip: grpcurl ? false : 'grpcurl not installed' }, async () => {
  const list = await run(grpcurl as string, ['-plaintext', server.address, 'list']);
  const listed = list.stdout.trim().split('\n');
  assert.ok(listed.includes('supernetd.v1.SupernetService') && listed.includes('grpc.health.v1.Health'), list.stdout);
  const desc = await run(grpcurl as string, ['-plaintext', server.address, 'describe', 'supernetd.v1.Architecture']);
  assert.match(desc.stdout, /map<string, int32> widths = 2;/);
  const call = await run(grpcurl as string, ['-plaintext', '-H', `authorization: Bearer ${TOKEN}`, server.address, 'supernetd.v1.SupernetService/ListStrategies']);
  assert.match(call.stdout, /"id": "uniform"/);
});

test('TLS: a client trusting the certificate can call; health works over TLS', { skip: existsSync('/usr/bin/openssl') ? false : 'openssl not installed' }, async () => {
  const dir = tempDir();
  try {
    const key = path.join(dir.dir, 'key.pem');
    const cert = path.join(dir.dir, 'cert.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    const tls = await startServer({ port: 0, dataDir: dir.dir, logLevel: 'silent', tlsCertPath: cert, tlsKeyPath: key });
    try {
      const creds = grpc.credentials.createSsl(readFileSync(cert));
      const c = connectClient(`localhost:${tls.port}`, { tls: { rootCerts: readFileSync(cert) } });
      const res = await c.listStrategies();
      assert.ok(res.length > 0);
      c.close();
      assert.equal(await healthCheck(`localhost:${tls.port}`, creds), 'SERVING');
      const plain = connectClient(`127.0.0.1:${tls.port}`);
      await assert.rejects(plain.listStrategies({ timeoutMs: 3000 }));
      plain.close();
    } finally {
      await tls.stop();
    }
  } finally {
    dir.remove();
  }
});
