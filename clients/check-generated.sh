#!/usr/bin/env bash
# Regenerates every client's code and fails if that changes anything under version control:
# generated code must always match proto/supernetd/v1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash clients/generate.sh
paths=(clients/typescript/src/gen services/api/src/gen clients/go/gen clients/python/src/supernetd/v1)
if ! git diff --exit-code -- "${paths[@]}" || [ -n "$(git status --porcelain -- "${paths[@]}")" ]; then
  git status --short -- "${paths[@]}" >&2
  echo "check-generated: generated code is stale; run clients/generate.sh and commit the result" >&2
  exit 1
fi
echo "check-generated: generated code is up to date"
