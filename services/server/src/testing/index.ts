// Test kit for strategy packages: drives a strategy end to end over real gRPC, and builds the
// small real runtimes their unit and conformance tests train on. Imports node:test, so it is
// exported as the `@supernetd/server/testing` subpath only, never from the main entry.
export * from './describe-strategy-over-grpc.ts';
export * from './small-training-runtime.ts';
