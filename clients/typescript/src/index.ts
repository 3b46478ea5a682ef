// TypeScript client of supernetd: a promise-based layer over the generated grpc-js stub
// (deadlines, gRPC retries of the safe calls, request ids, bearer token, TLS, SupernetdError with
// the google.rpc.Status error details) and typed-array <-> Tensor helpers. The generated supernetd.v1 and google.rpc messages and services
// are exported too (proto.ts), so an application needs no other package of this repository.
export * from './constraints.ts';
export * from './exported-model.ts';
export * from './proto.ts';
export * from './retry-policy.ts';
export * from './supernetd-client.ts';
export * from './supernetd-error.ts';
export * from './tensors.ts';
