// The grpc-js client of a protobuf-es v2 service: typed methods by local name, binary protobuf
// (de)serialisation through toBinary/fromBinary. The server's adapter (services/api) builds its
// service definition with the same grpcMethodDefinitions and adds the server side.
import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, DescService, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';

type MethodShape = GenServiceMethods[string];
type In<M extends MethodShape> = MessageShape<M['input']>;
type Out<M extends MethodShape> = MessageShape<M['output']>;

/** The grpc-js client method type of one protobuf-es method. */
export type GrpcClientMethodOf<M extends MethodShape> = M['methodKind'] extends 'unary'
  ? {
      (req: In<M>, callback: grpc.requestCallback<Out<M>>): grpc.ClientUnaryCall;
      (req: In<M>, metadata: grpc.Metadata, callback: grpc.requestCallback<Out<M>>): grpc.ClientUnaryCall;
      (
        req: In<M>,
        metadata: grpc.Metadata,
        options: Partial<grpc.CallOptions>,
        callback: grpc.requestCallback<Out<M>>,
      ): grpc.ClientUnaryCall;
    }
  : M['methodKind'] extends 'server_streaming'
    ? (req: In<M>, metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>) => grpc.ClientReadableStream<Out<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (
          metadata: grpc.Metadata,
          options: Partial<grpc.CallOptions>,
          callback: grpc.requestCallback<Out<M>>,
        ) => grpc.ClientWritableStream<In<M>>
      : (metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>) => grpc.ClientDuplexStream<In<M>, Out<M>>;

/**
 * The four-argument form of a unary grpc-js client method, as promise wrappers call it
 * (`client.sampleSubnet.bind(client)`): request, metadata, call options (deadline), callback.
 */
export type GrpcUnaryInvoker<I, O> = (
  req: I,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: grpc.requestCallback<O>,
) => grpc.ClientUnaryCall;

/** A grpc-js client of a protobuf-es service: one method per RPC, by local name (`sampleSubnet`). */
export type GrpcClient<S extends GenServiceMethods> = grpc.Client & { [K in keyof S]: GrpcClientMethodOf<S[K]> };

/** Constructor of a typed grpc-js client (same arguments as `grpc.Client`). */
export type GrpcClientConstructor<S extends GenServiceMethods> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => GrpcClient<S>;

/** Makes the function that turns one message type's values into wire bytes. */
export type GrpcSerializerOf = (desc: DescMessage) => (value: unknown) => Buffer;

/** Binary protobuf through `toBinary`, the bytes shared with a Buffer (no copy). */
export const binarySerializer: GrpcSerializerOf = (desc) => (value) => {
  const bytes = toBinary(desc, value as MessageShape<DescMessage>);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
};

function deserializer<D extends DescMessage>(desc: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(desc, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** gRPC path of a method: `/<package>.<Service>/<Method>`. */
export function grpcMethodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * The grpc-js method definitions of a protobuf-es v2 service descriptor, the one place both sides
 * build them: keys are the methods' local names (`createExperiment`), paths
 * `/supernetd.v1.SupernetService/CreateExperiment`, streaming flags from the method kind, decoding
 * through `fromBinary`, encoding through `serializerOf` (default `binarySerializer`; the server's
 * adapter passes one that also sends bytes encoded beforehand). The client constructor below and
 * the server's `toGrpcServiceDefinition` (services/api) are both made from it.
 */
export function grpcMethodDefinitions(
  service: DescService,
  serializerOf: GrpcSerializerOf = binarySerializer,
): Record<string, grpc.MethodDefinition<unknown, unknown>> {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const kind = method.methodKind;
    def[method.localName] = {
      path: grpcMethodPath(method),
      requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
      responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
      requestSerialize: serializerOf(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializerOf(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return def;
}

/**
 * A typed grpc-js client constructor for a protobuf-es v2 service descriptor, e.g.
 * `const Client = makeGrpcClientConstructor(SupernetService); new Client('127.0.0.1:50051', creds)`.
 */
export function makeGrpcClientConstructor<S extends GenServiceMethods>(service: GenService<S>): GrpcClientConstructor<S> {
  const desc = service as unknown as DescService;
  return grpc.makeGenericClientConstructor(grpcMethodDefinitions(desc) as unknown as grpc.ServiceDefinition, desc.typeName) as unknown as GrpcClientConstructor<S>;
}
