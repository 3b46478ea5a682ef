#!/usr/bin/env bash
# Runs every client's test suite, each with its own language's runner, against one real server
# process started here on a free loopback port with a temporary data directory.
#
#   bash clients/run-tests.sh                 # python go java typescript
#   bash clients/run-tests.sh python go       # a subset
#
# Exits non-zero if the server does not come up or any suite fails.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=clients/python/venv.sh
source clients/python/venv.sh

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(python go java typescript)

need() { command -v "$1" >/dev/null || { echo "run-tests: '$1' is required for the $2 client tests" >&2; exit 1; }; }
for s in "${suites[@]}"; do
  case "$s" in
    python) need python3 python ;;
    go) need go go ;;
    java) need mvn java; need java java ;;
    typescript) need node typescript ;;
    *) echo "run-tests: unknown suite '$s' (python, go, java, typescript)" >&2; exit 2 ;;
  esac
done
need openssl "TLS"
ensure_python_venv || exit 1

# shellcheck source=clients/live-server.sh
source clients/live-server.sh
work="$(mktemp -d "${TMPDIR:-/tmp}/supernetd-clients.XXXXXX")"
cleanup() { stop_live_server; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start_live_server "$work" || exit 1

export SUPERNETD_REQUIRE_SERVER=1

run_suite() {
  case "$1" in
    python) (cd clients/python && "$PYTHON_VENV/bin/python" -m pytest -q -p no:cacheprovider) ;;
    go) (cd clients/go && go test -count=1 ./...) ;;
    java) (cd clients/java && mvn -q -B -Dstyle.color=never test) ;;
    typescript) node --import tsx --test --test-concurrency=1 clients/typescript/test/*.test.ts ;;
  esac
}

run_each_against_live_server run-tests "client tests" passed run_suite "${suites[@]}" || exit 1
