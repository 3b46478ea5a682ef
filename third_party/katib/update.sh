#!/usr/bin/env bash
# Re-vendors Katib's manager protos from the Go module github.com/kubeflow/katib at the pinned
# version, through the Go module proxy (go mod download checks the module against its go.sum hash),
# and prints each file's SHA-256 for README.md. Run from anywhere; needs go.
set -euo pipefail
VERSION=v0.19.0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$(go mod download -json "github.com/kubeflow/katib@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "update.sh: go mod download gave no module directory" >&2; exit 1; }
install -m 644 "$dir/pkg/apis/manager/v1beta1/api.proto" "$HERE/katib/v1beta1/api.proto"
install -m 644 "$dir/pkg/apis/manager/health/health.proto" "$HERE/katib/health/health.proto"
install -m 644 "$dir/LICENSE" "$HERE/LICENSE"
(cd "$HERE" && sha256sum katib/v1beta1/api.proto katib/health/health.proto)
