// Test kit for strategy packages: drives a strategy end to end over real gRPC. Imports node:test,
// so it is exported as the `@supernetd/server/testing` subpath only, never from the main entry.
export * from './describe-strategy-over-grpc.ts';
