/**
 * One server of `npm run bench:rpc`, in a process of its own so the two never share an event loop:
 *
 *   rpc-servers.ts bare                 a bare grpc-js server with only grpc.health.v1.Health
 *   rpc-servers.ts supernetd <dataDir> [engineThreads]
 *                                       supernetd (wasm backend, default configuration otherwise;
 *                                       engineThreads 0 or absent: the default, every core)
 *
 * It sends `{ address }` over the IPC channel once it listens, answers `'cpu'` with
 * `{ cpu: process.cpuUsage() }` (every thread of the process), and stops on SIGTERM.
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { startServer } from '../src/index.ts';

const [kind, dataDir, threads] = process.argv.slice(2);
let stop: () => Promise<void>;

if (kind === 'bare') {
  const server = new grpc.Server();
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.send?.({ address: `127.0.0.1:${port}` });
  stop = () => new Promise((resolve) => server.tryShutdown(() => resolve()));
} else if (kind === 'supernetd' && dataDir) {
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, backend: 'wasm', logLevel: 'warn', engineThreads: Number(threads ?? 0) });
  process.send?.({ address: server.address });
  stop = server.stop;
} else {
  console.error('usage: rpc-servers.ts bare | supernetd <dataDir> [engineThreads]');
  process.exit(2);
}

process.on('message', (m) => {
  if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});

process.on('SIGTERM', () => {
  void stop().then(() => process.exit(0));
});
