import { startServer } from '@supernetd/server';
import type { ServerHandle } from './search-run.ts';

/**
 * Starts the supernetd gRPC server inside this process on a free loopback port, storing
 * experiments in `dataDir`; `stop()` checkpoints and shuts it down. Used when `--server` is not given.
 */
export async function startInProcessServer(dataDir: string): Promise<ServerHandle> {
  // the caller's own process and files: dataset paths anywhere (absolute, resolved by the caller)
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'error', datasetRoot: '/' });
  return { address: server.address, stop: () => server.stop() };
}
