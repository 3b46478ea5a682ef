import { create, toBinary } from '@bufbuild/protobuf';
import type { DescFile } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
} from '@bufbuild/protobuf/wkt';
import type { PackageDefinition } from '@grpc/proto-loader';
import {
  file_google_rpc_error_details,
  file_google_rpc_status,
  file_supernetd_v1_error_reason,
  file_supernetd_v1_supernet_service,
  file_supernetd_v1_types,
} from '@supernetd/api';

/** grpc.health.v1 as served by grpc-health-check (Check and Watch). */
function healthFile() {
  const optional = FieldDescriptorProto_Label.OPTIONAL;
  return create(FileDescriptorProtoSchema, {
    name: 'grpc/health/v1/health.proto',
    package: 'grpc.health.v1',
    syntax: 'proto3',
    messageType: [
      { name: 'HealthCheckRequest', field: [{ name: 'service', number: 1, label: optional, type: FieldDescriptorProto_Type.STRING, jsonName: 'service' }] },
      {
        name: 'HealthCheckResponse',
        field: [{ name: 'status', number: 1, label: optional, type: FieldDescriptorProto_Type.ENUM, typeName: '.grpc.health.v1.HealthCheckResponse.ServingStatus', jsonName: 'status' }],
        enumType: [
          {
            name: 'ServingStatus',
            value: [
              { name: 'UNKNOWN', number: 0 },
              { name: 'SERVING', number: 1 },
              { name: 'NOT_SERVING', number: 2 },
              { name: 'SERVICE_UNKNOWN', number: 3 },
            ],
          },
        ],
      },
    ],
    service: [
      {
        name: 'Health',
        method: [
          { name: 'Check', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse' },
          { name: 'Watch', inputType: '.grpc.health.v1.HealthCheckRequest', outputType: '.grpc.health.v1.HealthCheckResponse', serverStreaming: true },
        ],
      },
    ],
  });
}

/**
 * What @grpc/reflection reads from a package definition (each entry's `fileDescriptorProtos`),
 * built from the protobuf-es descriptors the server itself runs on, so reflection describes exactly
 * the served contract (maps and well-known types included) without parsing .proto files at run time.
 */
export function reflectionPackageDefinition(): PackageDefinition {
  // google.rpc.Status and its details too, so reflection clients (grpcurl) decode grpc-status-details-bin
  const files: DescFile[] = [
    file_google_protobuf_struct,
    file_google_protobuf_timestamp,
    file_google_protobuf_any,
    file_google_protobuf_duration,
    file_google_rpc_status,
    file_google_rpc_error_details,
    file_supernetd_v1_error_reason,
    file_supernetd_v1_types,
    file_supernetd_v1_supernet_service,
  ];
  const encoded = files.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  encoded.push(Buffer.from(toBinary(FileDescriptorProtoSchema, healthFile())));
  return { 'supernetd.v1': { format: 'Protocol Buffer 3 FileDescriptorProto', fileDescriptorProtos: encoded } } as unknown as PackageDefinition;
}
