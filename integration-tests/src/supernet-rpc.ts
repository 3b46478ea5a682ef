import * as grpc from '@grpc/grpc-js';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import { makeGrpcClientConstructor, SupernetService } from '@supernetd/api';
import type { GrpcClient, GrpcUnaryInvoker } from '@supernetd/api';

type Methods = typeof SupernetService extends GenService<infer M> ? M : never;

/** A raw grpc-js client of SupernetService built from the generated descriptors. */
export type SupernetRpcClient = GrpcClient<Methods>;

const RpcClient = makeGrpcClientConstructor(SupernetService);

/**
 * A plaintext client of the server at `address` (`127.0.0.1:<port>`); close it when done.
 * `ownConnection` gives it a connection of its own instead of sharing one with other clients of
 * the same address (as separate processes would have).
 */
export function connectRpc(address: string, opts: { ownConnection?: boolean } = {}): SupernetRpcClient {
  return new RpcClient(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    ...(opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  });
}

/**
 * Calls a unary method (`client.sampleSubnet.bind(client)`) with a deadline and resolves with the
 * response; rejects with the grpc-js ServiceError (code, details, metadata).
 */
export function unary<Req, Res>(invoke: GrpcUnaryInvoker<Req, Res>, req: Req, timeoutMs = 60_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else if (res === undefined) reject(new Error('empty response'));
      else resolve(res);
    });
  });
}

/** Waits until the channel to `client`'s server is ready, or rejects after `timeoutMs`. */
export function waitForReady(client: grpc.Client, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()));
  });
}
