# Sourced by clients/run-tests.sh and clients/install-check.sh: starts one real `supernetd serve`
# on a free loopback port with a temporary data directory, a bearer token and a TLS certificate
# from a CA made here, and stops it on exit.
#
#   start_live_server WORKDIR   exports SUPERNETD_ADDR, SUPERNETD_TOKEN, SUPERNETD_TLS_CA and
#                               sets server_pid; returns non-zero if the server does not answer
#   live_server_alive           whether it is still running
#   stop_live_server            SIGTERM, then SIGKILL after 20 s
#   run_each_against_live_server PROG LABEL OK STEP ITEM...
#                               runs `STEP ITEM` for each ITEM, then the summary both scripts
#                               print; returns non-zero if a step failed or the server exited
# Needs openssl, node and clients/python/.venv (ensure_python_venv of clients/python/venv.sh).

server_pid=""
live_server_work=""

stop_live_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
}

live_server_alive() { [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; }

# The server's stderr so far (for failure reports).
live_server_log() { [ -n "$live_server_work" ] && cat "$live_server_work/server.err"; }

# run_each_against_live_server PROG LABEL OK STEP ITEM...: runs `STEP ITEM` for each ITEM under a
# "=== LABEL: ITEM" header, timed, printing OK or FAILED for it; then reports a server that exited
# meanwhile (with its log) and, if anything failed, the failed items and the end of the server's
# log on stderr. Returns 1 then, else prints "LABEL passed: ITEM..." and returns 0.
run_each_against_live_server() {
  local prog="$1" label="$2" ok="$3" step="$4" item start
  shift 4
  local failed=()
  for item in "$@"; do
    printf '\n=== %s: %s\n' "$label" "$item"
    start=$SECONDS
    if "$step" "$item"; then
      echo "=== $item: $ok ($((SECONDS - start))s)"
    else
      echo "=== $item: FAILED ($((SECONDS - start))s)"
      failed+=("$item")
    fi
  done
  if ! live_server_alive; then
    echo "$prog: the server exited during the $label" >&2
    live_server_log >&2
    failed+=(server)
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    echo "$label failed: ${failed[*]}" >&2
    live_server_log | tail -n 50 >&2
    return 1
  fi
  echo "$label passed: $*"
}

_make_certificates() {
  local dir="$1"
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=supernetd client tests CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" &&
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" &&
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf" &&
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/ext.cnf" -out "$dir/server.pem"
}

start_live_server() {
  local work="$1" root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  live_server_work="$work"
  # The server requires a bearer token and serves TLS, so every client exercises both (the
  # clients read SUPERNETD_TOKEN and SUPERNETD_TLS_CA).
  SUPERNETD_TOKEN="clients-test-$RANDOM$RANDOM"
  SUPERNETD_TLS_CA="$work/tls/ca.pem"
  export SUPERNETD_TOKEN SUPERNETD_TLS_CA
  if ! _make_certificates "$work/tls" >"$work/openssl.log" 2>&1; then
    cat "$work/openssl.log" >&2
    echo "live-server: could not make the test certificates" >&2
    return 1
  fi
  # Port 0: the server binds a free port and prints it, so there is no race for the port.
  node --import tsx "$root/services/server/src/cli.ts" serve --host 127.0.0.1 --port 0 \
    --data-dir "$work/data" --auth-token "$SUPERNETD_TOKEN" \
    --tls-cert "$work/tls/server.pem" --tls-key "$work/tls/server.key" --log-level warn >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  local addr=""
  for _ in $(seq 1 600); do
    addr="$(sed -n 's/^supernetd listening on \(.*\)$/\1/p' "$work/server.out" | head -n1)"
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  if [ -z "$addr" ]; then
    echo "live-server: the server did not start" >&2
    cat "$work/server.out" "$work/server.err" >&2
    return 1
  fi
  # Ready when a real RPC answers (the Python client retries UNAVAILABLE while it binds).
  if ! PYTHONPATH="$root/clients/python/src" "$PYTHON_VENV/bin/python" -c '
import sys
from supernetd import Client
with Client(sys.argv[1], timeout=60) as c:
    print("live-server: server at", sys.argv[1], "with strategies", [s.id for s in c.list_strategies()])
' "$addr"; then
    echo "live-server: the server at $addr does not answer" >&2
    cat "$work/server.err" >&2
    return 1
  fi
  export SUPERNETD_ADDR="$addr"
}
