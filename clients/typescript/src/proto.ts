// The generated supernetd.v1 and google.rpc messages and services (src/gen, made by
// clients/generate.sh from the root buf.gen.yaml), the grpc-js glue, the Tensor codec and the
// status-details codec: everything of the contract, with no dependency but @bufbuild/protobuf and
// @grpc/grpc-js; `@supernetd/client/proto` on its own. This is the repository's only generated copy
// of the contract: the server takes it through @supernetd/api, and its descriptors carry the
// buf.validate request rules (src/gen/buf/validate) that the server checks.
export * from './gen/supernetd/v1/error_reason_pb.js';
export * from './gen/supernetd/v1/types_pb.js';
export * from './gen/supernetd/v1/supernet_service_pb.js';
export * from './grpc-stub.ts';
export * from './tensor-codec.ts';
export * from './gen/google/rpc/status_pb.js';
export * from './gen/google/rpc/error_details_pb.js';
export * from './status-details.ts';
