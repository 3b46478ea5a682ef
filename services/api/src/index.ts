// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export * from './gen/supernetd/v1/error_reason_pb.ts';
export * from './gen/supernetd/v1/types_pb.ts';
export * from './gen/supernetd/v1/supernet_service_pb.ts';
export * from './gen/google/rpc/status_pb.ts';
export * from './gen/google/rpc/error_details_pb.ts';
export * from './grpc-adapter.ts';
export * from './status-details.ts';
export * from './tensor-codec.ts';
