#!/usr/bin/env bash
# Regenerates every client's code from proto/supernetd/v1 with local, version-pinned plug-ins:
#   TypeScript  buf + protoc-gen-es (root package.json)      -> clients/typescript/src/gen (buf.gen.yaml), the
#               one copy of the contract: the client ships it, the server imports it through @supernetd/api;
#               Katib's Suggestion API, for the server only -> services/api/src/gen (services/api/buf.gen.katib.yaml)
#   Go          buf + protoc-gen-go/-go-grpc (`tool` block of clients/go/tools/go.mod) -> clients/go/gen
#   Python      grpcio-tools (clients/python/requirements-dev.txt) -> clients/python/src/supernetd/v1,
#               from a descriptor set without the buf.validate rules (clients/strip_validate.py)
#   Java        protoc + protoc-gen-grpc-java from Maven Central (clients/java/pom.xml), at build
#               time into clients/java/target; nothing to commit, so not run here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=clients/python/venv.sh
source clients/python/venv.sh

BUF="$ROOT/node_modules/.bin/buf"
[ -x "$BUF" ] || { echo "generate.sh: $BUF is missing; run npm ci first" >&2; exit 1; }

echo "generate: typescript"
rm -rf clients/typescript/src/gen services/api/src/gen
PATH="$ROOT/node_modules/.bin:$PATH" "$BUF" generate
PATH="$ROOT/node_modules/.bin:$PATH" "$BUF" generate --template services/api/buf.gen.katib.yaml

echo "generate: go"
(cd clients/go/tools && GOBIN="$ROOT/clients/go/.bin" go install tool)
rm -rf clients/go/gen
PATH="$ROOT/clients/go/.bin:$PATH" "$BUF" generate --template clients/go/buf.gen.go.yaml

echo "generate: python"
ensure_python_venv
py_out=clients/python/src/supernetd/v1
rm -rf "$py_out"
mkdir -p "$py_out"
# from a descriptor set without the buf.validate rules, which only the server checks
fds="$(mktemp -d)"
trap 'rm -rf "$fds"' EXIT
"$PYTHON_VENV/bin/python" -m grpc_tools.protoc -I proto -I third_party/bufbuild --include_imports --include_source_info \
  --descriptor_set_out="$fds/with-rules.binpb" proto/supernetd/v1/*.proto
"$PYTHON_VENV/bin/python" clients/strip_validate.py "$fds/with-rules.binpb" "$fds/protos.binpb"
py_protos=()
for f in proto/supernetd/v1/*.proto; do py_protos+=("${f#proto/}"); done
"$PYTHON_VENV/bin/python" -m grpc_tools.protoc --descriptor_set_in="$fds/protos.binpb" \
  --python_out=clients/python/src --pyi_out=clients/python/src "${py_protos[@]}"
"$PYTHON_VENV/bin/python" -m grpc_tools.protoc --descriptor_set_in="$fds/protos.binpb" \
  --grpc_python_out=clients/python/src supernetd/v1/supernet_service.proto
# protoc writes `from supernetd.v1 import ...`, which resolves inside this package as it is.
printf '"""Generated from proto/supernetd/v1 by clients/generate.sh; do not edit."""\n' > "$py_out/__init__.py"
