// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
// The contract's generated code (supernetd.v1 with its buf.validate request rules, google.rpc), the
// grpc-js method definitions and client constructor, the Tensor codec and the google.rpc.Status
// details codec have one home, the TypeScript client, which applications install alone
// (@supernetd/client/proto: all of it but the promise-based client); the server's typed checks of
// request tensors are its own (services/server/src/grpc/request-tensor.ts).
export * from '@supernetd/client/proto';
// The server side: service definitions with the withEncoding cache, handler types.
export * from './grpc-adapter.ts';
