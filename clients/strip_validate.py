"""Removes the buf.validate rules from a FileDescriptorSet (argv[1] -> argv[2]).

The Python client is generated from proto/supernetd/v1 without the rules, which only the server
checks: its generated code then neither imports buf/validate/validate.proto nor needs a package
that provides it. Parsed without the buf.validate extensions registered, the rules are unknown
fields of the options, which are discarded; the file and the imports of it are dropped, as are
options left empty and the json_name that --descriptor_set_out adds, so that the generated code is
what protoc makes of the .proto files without the rules.
"""
import sys

from google.protobuf import descriptor_pb2

VALIDATE = "buf/validate/validate.proto"


def tidy(msg):
    """Clears json_name and emptied options throughout a descriptor."""
    for field, value in msg.ListFields():
        if field.name == "options" and value.ByteSize() == 0:
            msg.ClearField("options")
        elif field.name == "json_name" and isinstance(msg, descriptor_pb2.FieldDescriptorProto):
            msg.ClearField("json_name")
        elif field.message_type is not None and field.name != "options":
            for item in [value] if hasattr(value, "ListFields") else value:
                tidy(item)


fds = descriptor_pb2.FileDescriptorSet()
with open(sys.argv[1], "rb") as f:
    fds.ParseFromString(f.read())
files = [fd for fd in fds.file if fd.name != VALIDATE]
del fds.file[:]
for fd in files:
    fd.DiscardUnknownFields()
    tidy(fd)
    if VALIDATE in fd.dependency:
        deps = [d for d in fd.dependency if d != VALIDATE]
        del fd.dependency[:]
        fd.dependency.extend(deps)
    fds.file.append(fd)
with open(sys.argv[2], "wb") as f:
    f.write(fds.SerializeToString())
