# Sourced by clients/*.sh: creates clients/python/.venv with the pinned tools and installs the
# client package into it (editable), once per change of requirements-dev.txt.
PYTHON_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON_VENV="$PYTHON_DIR/.venv"

ensure_python_venv() {
  local stamp="$PYTHON_VENV/.requirements-dev.txt"
  if [ -x "$PYTHON_VENV/bin/python" ] && cmp -s "$PYTHON_DIR/requirements-dev.txt" "$stamp"; then
    return 0
  fi
  echo "python: creating $PYTHON_VENV" >&2
  python3 -m venv "$PYTHON_VENV"
  "$PYTHON_VENV/bin/pip" install -q --disable-pip-version-check -r "$PYTHON_DIR/requirements-dev.txt"
  cp "$PYTHON_DIR/requirements-dev.txt" "$stamp"
}
