import { DEFAULT_RETRY_POLICY, SupernetdClient } from '@supernetd/client';

/**
 * The TypeScript client of the server at `address` (`127.0.0.1:<port>`) as the suites call it:
 * plaintext and no token whatever the environment says, a 60 s deadline on each unary call, and no
 * retries, so that a test sees every status the server sends; close it when done. `ownConnection`
 * gives it a connection of its own instead of sharing one with other clients of the same address
 * (as separate processes would have).
 */
export function connectClient(address: string, opts: { ownConnection?: boolean } = {}): SupernetdClient {
  return new SupernetdClient({
    address,
    tls: false,
    token: '',
    timeoutMs: 60_000,
    retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 },
    channelOptions: opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {},
  });
}

/** Waits until the channel of `client` to its server is ready, or rejects after `timeoutMs`. */
export function waitForReady(client: SupernetdClient, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    client.stub.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()));
  });
}
