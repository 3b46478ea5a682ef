// The generated supernetd.v1 and google.rpc messages and services (src/gen, made by
// clients/generate.sh), the grpc-js client glue, the Tensor codec and the status-details codec:
// everything the client needs from the contract, with no dependency but @bufbuild/protobuf and @grpc/grpc-js.
export * from './gen/supernetd/v1/error_reason_pb.js';
export * from './gen/supernetd/v1/types_pb.js';
export * from './gen/supernetd/v1/supernet_service_pb.js';
export * from './grpc-stub.ts';
export * from './tensor-codec.ts';
export * from './gen/google/rpc/status_pb.js';
export * from './gen/google/rpc/error_details_pb.js';
export * from './status-details.ts';
