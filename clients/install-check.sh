#!/usr/bin/env bash
# Builds each client the way its language ships it, installs that artifact into a fresh project
# of its own, and runs the client's example there against one real server (started here as in
# run-tests.sh: free loopback port, temporary data directory, bearer token, TLS):
#
#   python      python -m build -> wheel -> pip install into a new venv -> examples/search_loop.py
#   go          a new module that requires the client module (replace => clients/go, as it is
#               not published from here) -> go run of examples/searchloop/cmd/search-loop
#   java        mvn install -> a new Maven project depending on dev.supernetd:supernetd-client
#               -> exec:java of examples/.../SearchLoop.java
#   typescript  clients/typescript/pack.mjs (npm pack) -> npm install of the tarball into an empty
#               project -> the example compiled to JavaScript, run by plain node (no tsx)
#
#   bash clients/install-check.sh              # python go java typescript
#   bash clients/install-check.sh python go    # a subset
#
# Exits non-zero if the server does not come up or any client fails to build, install or run.
# Caches (pip, the Go module cache, ~/.m2, npm's cache) are reused between runs.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=clients/python/venv.sh
source clients/python/venv.sh
# shellcheck source=clients/live-server.sh
source clients/live-server.sh

clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(python go java typescript)
for c in "${clients[@]}"; do
  case "$c" in
    python | go | java | typescript) ;;
    *) echo "install-check: unknown client '$c' (python, go, java, typescript)" >&2; exit 2 ;;
  esac
done
ensure_python_venv || exit 1

work="$(mktemp -d "${TMPDIR:-/tmp}/supernetd-install.XXXXXX")"
cleanup() { stop_live_server; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start_live_server "$work" || exit 1

check_python() {
  local app="$work/python-app"
  mkdir -p "$app"
  "$PYTHON_VENV/bin/python" -m build --wheel --outdir "$work/python-dist" clients/python >"$work/python-build.log" 2>&1 ||
    { cat "$work/python-build.log" >&2; return 1; }
  python3 -m venv "$app/.venv" &&
    "$app/.venv/bin/pip" install -q --disable-pip-version-check "$work"/python-dist/supernetd_client-*.whl &&
    cp clients/python/examples/search_loop.py "$app/" &&
    (cd "$app" && .venv/bin/python search_loop.py out) &&
    ls "$app"/out/flops-*/model.json >/dev/null
}

check_go() {
  local app="$work/go-app" module
  module="$(cd clients/go && go list -m)" || return 1
  mkdir -p "$app"
  cp clients/go/examples/searchloop/cmd/search-loop/main.go "$app/"
  (
    cd "$app" &&
      go mod init example.com/supernetd-install-check >/dev/null 2>&1 &&
      go mod edit -require="$module@v0.0.0" -replace="$module=$ROOT/clients/go" &&
      go mod tidy &&
      go run . out
  ) && ls "$app"/out/flops-*/model.json >/dev/null
}

check_java() {
  local app="$work/java-app" version
  (cd clients/java && mvn -q -B -Dstyle.color=never install -DskipTests) || return 1
  version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' clients/java/pom.xml | head -n1)"
  mkdir -p "$app/src/main/java/dev/supernetd/examples"
  cp clients/java/examples/dev/supernetd/examples/SearchLoop.java "$app/src/main/java/dev/supernetd/examples/"
  cat >"$app/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>supernetd-install-check</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>dev.supernetd</groupId>
      <artifactId>supernetd-client</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin>
        <groupId>org.codehaus.mojo</groupId><artifactId>exec-maven-plugin</artifactId><version>3.5.0</version>
        <configuration><mainClass>dev.supernetd.examples.SearchLoop</mainClass></configuration>
      </plugin>
    </plugins>
  </build>
</project>
EOF
  (cd "$app" && mvn -q -B -Dstyle.color=never compile exec:java -Dexec.args=out) &&
    ls "$app"/out/flops-*/model.json >/dev/null
}

check_typescript() {
  local app="$work/typescript-app" tarball
  mkdir -p "$app"
  tarball="$(node clients/typescript/pack.mjs "$work")" || return 1
  printf '{ "name": "supernetd-install-check", "private": true, "type": "module" }\n' >"$app/package.json"
  cp clients/typescript/examples/search-loop.ts "$app/"
  # The example, type-checked against the installed package's .d.ts and compiled to JavaScript
  # with the repository's TypeScript; the project itself has no TypeScript and no tsx.
  (cd "$app" && npm install --no-audit --no-fund --loglevel=error "$tarball") &&
    (cd "$app" && "$ROOT/node_modules/.bin/tsc" --module nodenext --moduleResolution nodenext --target es2022 \
      --strict --exactOptionalPropertyTypes --types node search-loop.ts) &&
    if [ -d "$app/node_modules/@tensorflow" ] || [ -d "$app/node_modules/tsx" ]; then
      echo "install-check: the TypeScript client pulled in tfjs or tsx" >&2
      false
    fi &&
    (cd "$app" && node search-loop.js out) &&
    ls "$app"/out/flops-*/model.json >/dev/null
}

check_client() { "check_$1"; }
run_each_against_live_server install-check "install checks" "installed and ran its example" check_client "${clients[@]}" || exit 1
