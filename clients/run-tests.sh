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

failed=()
for s in "${suites[@]}"; do
  printf '\n=== client tests: %s\n' "$s"
  start=$SECONDS
  if run_suite "$s"; then
    echo "=== $s: passed ($((SECONDS - start))s)"
  else
    echo "=== $s: FAILED ($((SECONDS - start))s)"
    failed+=("$s")
  fi
done

if ! live_server_alive; then
  echo "run-tests: the server exited during the tests" >&2
  live_server_log >&2
  failed+=(server)
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "client tests failed: ${failed[*]}" >&2
  live_server_log | tail -n 50 >&2
  exit 1
fi
echo "client tests passed: ${suites[*]}"
