import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, DescService, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { GrpcClientConstructor } from '@supernetd/client';

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

// The client side's types are the TypeScript client's (one copy); the server side is this file's.
export type { GrpcClient, GrpcClientConstructor, GrpcClientMethodOf, GrpcUnaryInvoker } from '@supernetd/client';

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

function serializer<D extends DescMessage>(desc: D): (value: MessageShape<D>) => Buffer {
  return (value) => {
    const encoded = (value as { [ENCODED]?: Buffer })[ENCODED];
    if (encoded !== undefined) return encoded;
    const bytes = toBinary(desc, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<D extends DescMessage>(desc: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(desc, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** gRPC path of a method: `/<package>.<Service>/<Method>`. */
export function grpcMethodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function methodDefinition(method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  const kind = method.methodKind;
  return {
    path: grpcMethodPath(method),
    requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
    responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
    requestSerialize: serializer(method.input) as (v: unknown) => Buffer,
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output) as (v: unknown) => Buffer,
    responseDeserialize: deserializer(method.output),
    originalName: method.localName,
  };
}

/**
 * The grpc-js `ServiceDefinition` of a protobuf-es v2 service descriptor: keys are the methods'
 * local names (`createExperiment`), paths `/supernetd.v1.SupernetService/CreateExperiment`, binary
 * protobuf (de)serialisation through `toBinary`/`fromBinary`, streaming flags from the method kind.
 * Use with `server.addService(toGrpcServiceDefinition(SupernetService), impl)`.
 */
export function toGrpcServiceDefinition<S extends GenServiceMethods>(
  service: GenService<S>,
): grpc.ServiceDefinition<GrpcServiceImpl<S>> {
  const desc = service as unknown as DescService;
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of desc.methods) def[method.localName] = methodDefinition(method);
  return def as unknown as grpc.ServiceDefinition<GrpcServiceImpl<S>>;
}

/**
 * A typed grpc-js client constructor for a protobuf-es v2 service descriptor, e.g.
 * `const Client = makeGrpcClientConstructor(SupernetService); new Client('127.0.0.1:50051', creds)`.
 */
export function makeGrpcClientConstructor<S extends GenServiceMethods>(
  service: GenService<S>,
  serviceName: string = (service as unknown as DescService).typeName,
): GrpcClientConstructor<S> {
  return grpc.makeGenericClientConstructor(
    toGrpcServiceDefinition(service) as unknown as grpc.ServiceDefinition,
    serviceName,
  ) as unknown as GrpcClientConstructor<S>;
}
