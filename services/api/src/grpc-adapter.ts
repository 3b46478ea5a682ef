import type * as grpc from '@grpc/grpc-js';
import { toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescService, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { binarySerializer, grpcMethodDefinitions } from '@supernetd/client';
import type { GrpcSerializerOf } from '@supernetd/client';

type MethodShape = GenServiceMethods[string];
type In<M extends MethodShape> = MessageShape<M['input']>;
type Out<M extends MethodShape> = MessageShape<M['output']>;

/** The grpc-js handler type of one protobuf-es method, chosen by its kind. */
export type GrpcHandlerOf<M extends MethodShape> = M['methodKind'] extends 'unary'
  ? grpc.handleUnaryCall<In<M>, Out<M>>
  : M['methodKind'] extends 'server_streaming'
    ? grpc.handleServerStreamingCall<In<M>, Out<M>>
    : M['methodKind'] extends 'client_streaming'
      ? grpc.handleClientStreamingCall<In<M>, Out<M>>
      : grpc.handleBidiStreamingCall<In<M>, Out<M>>;

/** A full grpc-js implementation of a protobuf-es service: one handler per method, by local name. */
export type GrpcServiceImpl<S extends GenServiceMethods> = { [K in keyof S]: GrpcHandlerOf<S[K]> };

// The method definitions, the client constructor and the client side's types are the TypeScript
// client's (one copy, re-exported by index.ts); the server side is this file's.

const ENCODED = Symbol('supernetd.encoded');

/**
 * Attaches `msg`'s own binary encoding to it, so a grpc-js serializer of this adapter sends those
 * bytes instead of encoding the message again: for a response a server sends many times unchanged
 * (GetExperiment of an experiment that is not training). `msg` must not change afterwards.
 */
export function withEncoding<T extends object>(msg: T, desc: DescMessage): T {
  const bytes = toBinary(desc, msg as MessageShape<DescMessage>);
  Object.defineProperty(msg, ENCODED, { value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), enumerable: false });
  return msg;
}

/**
 * Attaches `bytes` to `msg` as its binary encoding, for a caller that encodes a message itself
 * faster than `toBinary` does (SampleSubnet's replies): they must be exactly what `toBinary` gives for `msg`,
 * which that caller's tests check. `msg` must not change afterwards.
 */
export function withEncodedBytes<T extends object>(msg: T, bytes: Buffer): T {
  Object.defineProperty(msg, ENCODED, { value: bytes, enumerable: false });
  return msg;
}

const REQUEST_BYTES = Symbol('supernetd.requestBytes');
/** Requests up to this size keep the bytes they were decoded from (requestBytesOf). */
export const MAX_KEPT_REQUEST_BYTES = 1024;

/**
 * The wire bytes a request was decoded from, for a small request (at most MAX_KEPT_REQUEST_BYTES)
 * received through `toGrpcServiceDefinition`: equal bytes decode to equal messages, so a check
 * that depends on the message alone can be done once per distinct bytes. Undefined otherwise.
 */
export function requestBytesOf(msg: unknown): Buffer | undefined {
  return typeof msg === 'object' && msg !== null ? (msg as { [REQUEST_BYTES]?: Buffer })[REQUEST_BYTES] : undefined;
}

/** binarySerializer, except that a message with bytes attached by withEncoding or withEncodedBytes sends those. */
const cachedSerializer: GrpcSerializerOf = (desc) => {
  const encode = binarySerializer(desc);
  return (value) => (value as { [ENCODED]?: Buffer })[ENCODED] ?? encode(value);
};

/**
 * The grpc-js `ServiceDefinition` of a protobuf-es v2 service descriptor: the client's
 * `grpcMethodDefinitions` (keys are the methods' local names, `createExperiment`; paths
 * `/supernetd.v1.SupernetService/CreateExperiment`; binary protobuf; streaming flags from the method
 * kind), whose serializers send the bytes of a message made with `withEncoding`, and whose
 * deserializers keep a small request's bytes for `requestBytesOf`.
 * Use with `server.addService(toGrpcServiceDefinition(SupernetService), impl)`.
 */
export function toGrpcServiceDefinition<S extends GenServiceMethods>(
  service: GenService<S>,
): grpc.ServiceDefinition<GrpcServiceImpl<S>> {
  const def = grpcMethodDefinitions(service as unknown as DescService, cachedSerializer);
  for (const [name, d] of Object.entries(def)) {
    const decode = d.requestDeserialize;
    def[name] = {
      ...d,
      requestDeserialize: (bytes: Buffer) => {
        const msg = decode(bytes);
        if (bytes.length <= MAX_KEPT_REQUEST_BYTES && typeof msg === 'object' && msg !== null) {
          Object.defineProperty(msg, REQUEST_BYTES, { value: bytes, enumerable: false });
        }
        return msg;
      },
    };
  }
  return def as unknown as grpc.ServiceDefinition<GrpcServiceImpl<S>>;
}
