/**
 * One server of `npm run bench:rpc`, in a process of its own so the two never share an event loop:
 *
 *   rpc-servers.ts bare                 a bare grpc-js server with only grpc.health.v1.Health
 *   rpc-servers.ts same-reply <file>    a bare grpc-js server that answers each SupernetService
 *                                       method named in <file> (JSON: method path -> base64 reply)
 *                                       with those reply bytes, after decoding the request with
 *                                       protobuf-es as any grpc-js service would; the peer that
 *                                       isolates supernetd's own cost from the size of its replies
 *   rpc-servers.ts supernetd <dataDir> [engineThreads]
 *                                       supernetd (wasm backend, default configuration otherwise;
 *                                       engineThreads 0 or absent: the default, every core)
 *
 * It sends `{ address }` over the IPC channel once it listens, answers `'cpu'` with
 * `{ cpu: process.cpuUsage() }` (every thread of the process), and stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { HealthImplementation } from 'grpc-health-check';
import { SupernetService } from '@supernetd/api';
import { startServer } from '../src/index.ts';

const [kind, dataDir, threads] = process.argv.slice(2);
let stop: () => Promise<void>;

/** Binds `server` to a loopback port, reports the address and returns how to stop it. */
async function listen(server: grpc.Server): Promise<() => Promise<void>> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.send?.({ address: `127.0.0.1:${port}` });
  return () => new Promise((resolve) => server.tryShutdown(() => resolve()));
}

if (kind === 'bare') {
  const server = new grpc.Server();
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  stop = await listen(server);
} else if (kind === 'same-reply' && dataDir) {
  const server = new grpc.Server();
  const replies = JSON.parse(readFileSync(dataDir, 'utf8')) as Record<string, string>;
  for (const [route, base64] of Object.entries(replies)) {
    const method = Object.values(SupernetService.method).find((m) => `/${SupernetService.typeName}/${m.name}` === route);
    if (!method) throw new Error(`same-reply: ${route} is not a SupernetService method`);
    const reply = Buffer.from(base64, 'base64');
    server.register(
      route,
      (_call: grpc.ServerUnaryCall<unknown, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, reply),
      (b: Buffer) => b,
      (b: Buffer) => fromBinary(method.input, b),
      'unary',
    );
  }
  stop = await listen(server);
} else if (kind === 'supernetd' && dataDir) {
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, backend: 'wasm', logLevel: 'warn', engineThreads: Number(threads ?? 0) });
  process.send?.({ address: server.address });
  stop = server.stop;
} else {
  console.error('usage: rpc-servers.ts bare | same-reply <repliesFile> | supernetd <dataDir> [engineThreads]');
  process.exit(2);
}

process.on('message', (m) => {
  if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});

process.on('SIGTERM', () => {
  void stop().then(() => process.exit(0));
});
