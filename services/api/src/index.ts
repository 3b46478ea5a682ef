// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export * from './gen/supernetd/v1/error_reason_pb.ts';
export * from './gen/supernetd/v1/types_pb.ts';
export * from './gen/supernetd/v1/supernet_service_pb.ts';
export * from './gen/google/rpc/status_pb.ts';
export * from './gen/google/rpc/error_details_pb.ts';
export * from './grpc-adapter.ts';
// The grpc-js method definitions and client constructor are the client's, which the adapter uses.
export { grpcMethodDefinitions, grpcMethodPath, makeGrpcClientConstructor } from '@supernetd/client';
export type { GrpcClient, GrpcClientConstructor, GrpcClientMethodOf, GrpcUnaryInvoker } from '@supernetd/client';
// The Tensor and google.rpc.Status details codecs have one home, the TypeScript client, which
// applications install alone; the server's typed checks of request tensors are its own
// (services/server/src/grpc/request-tensor.ts).
export { STATUS_DETAILS_KEY, ERROR_DOMAIN, encodeStatusDetails, decodeStatusDetails, decodeTensor, encodeTensor } from '@supernetd/client';
export type { StatusDetails, TensorDType, DecodedTensor } from '@supernetd/client';
