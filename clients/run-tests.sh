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

work="$(mktemp -d "${TMPDIR:-/tmp}/supernetd-clients.XXXXXX")"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# The server requires a bearer token and serves TLS with a certificate from a CA made here, so
# every suite also exercises authentication and TLS (the clients read SUPERNETD_TLS_CA).
SUPERNETD_TOKEN="clients-test-$RANDOM$RANDOM"
SUPERNETD_TLS_CA="$work/tls/ca.pem"
export SUPERNETD_TOKEN SUPERNETD_TLS_CA
make_certificates() {
  local dir="$work/tls"
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=supernetd client tests CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" &&
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf" &&
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/ext.cnf" -out "$dir/server.pem"
}
if ! make_certificates >"$work/openssl.log" 2>&1; then
  cat "$work/openssl.log" >&2
  echo "run-tests: could not make the test certificates" >&2
  exit 1
fi
# Port 0: the server binds a free port and prints it, so there is no race for the port.
node --import tsx services/server/src/cli.ts serve --host 127.0.0.1 --port 0 \
  --data-dir "$work/data" --auth-token "$SUPERNETD_TOKEN" \
  --tls-cert "$work/tls/server.pem" --tls-key "$work/tls/server.key" --log-level warn >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
addr=""
for _ in $(seq 1 600); do
  addr="$(sed -n 's/^supernetd listening on \(.*\)$/\1/p' "$work/server.out" | head -n1)"
  [ -n "$addr" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.2
done
if [ -z "$addr" ]; then
  echo "run-tests: the server did not start" >&2
  cat "$work/server.out" "$work/server.err" >&2
  exit 1
fi

# Ready when a real RPC answers (the Python client retries UNAVAILABLE while it binds).
if ! PYTHONPATH=clients/python/src "$PYTHON_VENV/bin/python" -c '
import sys
from supernetd import Client
with Client(sys.argv[1], timeout=60) as c:
    print("run-tests: server at", sys.argv[1], "with strategies", [s.id for s in c.list_strategies()])
' "$addr"; then
  echo "run-tests: the server at $addr does not answer" >&2
  cat "$work/server.err" >&2
  exit 1
fi

export SUPERNETD_ADDR="$addr" SUPERNETD_REQUIRE_SERVER=1

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

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "run-tests: the server exited during the tests" >&2
  cat "$work/server.err" >&2
  failed+=(server)
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "client tests failed: ${failed[*]}" >&2
  tail -n 50 "$work/server.err" >&2
  exit 1
fi
echo "client tests passed: ${suites[*]}"
