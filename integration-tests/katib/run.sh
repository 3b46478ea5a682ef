#!/usr/bin/env bash
# Replays the Katib controller's calls against a real supernetd over gRPC with Katib's own Python
# stubs (kubeflow-katib from PyPI): see test_katib_driver.py and docs/katib.md. Creates
# integration-tests/katib/.venv with requirements.txt once per change of that file.
#   bash integration-tests/katib/run.sh [pytest args]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
stamp="$VENV/.requirements.txt"
if ! { [ -x "$VENV/bin/python" ] && cmp -s "$HERE/requirements.txt" "$stamp"; }; then
  echo "katib: creating $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$stamp"
fi
cd "$HERE/../.."
exec "$VENV/bin/python" -m pytest -p no:cacheprovider -v "$HERE/test_katib_driver.py" "$@"
