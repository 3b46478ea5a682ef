#!/usr/bin/env bash
# Makes a Docker engine and the base image the Dockerfile starts FROM available on a build
# machine that has no image registry (see docs/deployment.md). Idempotent: every step is
# skipped when its result is already there, so a second run takes a second or two.
#
#   1. installs docker.io and debootstrap (apt) when dockerd is missing;
#   2. starts dockerd with no bridge and no iptables (containers use host networking);
#   3. builds node:20-bookworm-slim locally when it is missing: debootstrap --variant=minbase
#      bookworm, this machine's Node under /usr/local and a `node` user (uid 1000), as in the
#      official image; the root file system tarball is cached for the next run;
#   4. with --build, also builds the supernetd image (`docker build --network host`);
#   5. with --build-native, also builds the image with the native TensorFlow backend
#      (Dockerfile.native). When `npm run setup:tensorflow` has cached the pinned tensorflow-cpu
#      wheel on this machine (and its sha256 matches), the wheel goes into the build as a local
#      image (`supernetd-tensorflow-wheel:<sha256 prefix>`, TF_WHEEL_FROM) instead of being
#      downloaded again; otherwise the build downloads it from PyPI.
#
# Environment:
#   SUPERNETD_BASE_IMAGE     base image name (default node:20-bookworm-slim)
#   SUPERNETD_IMAGE          image tag built by --build (default supernetd:dev)
#   SUPERNETD_NATIVE_IMAGE   image tag built by --build-native (default supernetd:native-dev)
#   SUPERNETD_TF_CACHE       setup:tensorflow's cache, where --build-native looks for the wheel
#                            (default node_modules/.cache/supernetd-tensorflow)
#   SUPERNETD_CACHE_DIR      where the rootfs tarball and dockerd's log go (default ~/.cache/supernetd)
#   SUPERNETD_DEBIAN_MIRROR  Debian mirror for debootstrap (default: the first Debian URI in apt's sources)
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${SUPERNETD_BASE_IMAGE:-node:20-bookworm-slim}"
IMAGE="${SUPERNETD_IMAGE:-supernetd:dev}"
NATIVE_IMAGE="${SUPERNETD_NATIVE_IMAGE:-supernetd:native-dev}"
CACHE_DIR="${SUPERNETD_CACHE_DIR:-${HOME:-/root}/.cache/supernetd}"
BUILD=0 BUILD_NATIVE=0
for arg in "$@"; do
  case "$arg" in
    --build) BUILD=1 ;;
    --build-native) BUILD_NATIVE=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "docker-setup: unknown argument '$arg' (expected --build, --build-native)" >&2; exit 2 ;;
  esac
done

log() { printf 'docker-setup: %s\n' "$*"; }
die() { printf 'docker-setup: error: %s\n' "$*" >&2; exit 1; }
SECONDS=0
mkdir -p "$CACHE_DIR"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "'$*' needs root (run as root or install sudo)"; fi
}

# 1. packages
need=()
command -v dockerd >/dev/null || need+=(docker.io)
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
fi
if ((${#need[@]})); then
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get to install them"
  log "installing ${need[*]}"
  as_root apt-get update -qq || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
    || die "apt-get install ${need[*]} failed"
fi

# 2. daemon
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: $CACHE_DIR/dockerd.log)"
  # setsid: the daemon outlives this script and the CI step that ran it.
  as_root setsid dockerd --bridge=none --iptables=false --ip6tables=false \
    >"$CACHE_DIR/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -20 "$CACHE_DIR/dockerd.log" >&2 || true; die "dockerd did not come up within 60 s"; }
fi
log "docker $(docker version --format '{{.Server.Version}}') is up"

# 3. base image
debian_mirror() {
  if [ -n "${SUPERNETD_DEBIAN_MIRROR:-}" ]; then echo "$SUPERNETD_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v "^ *#" \
    | grep -oE '(https?)://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

node_bin=$(command -v node || true)
[ -n "$node_bin" ] || die "node is not installed on this machine; its installation is copied into the base image"
node_bin=$(readlink -f "$node_bin")
node_prefix=$(dirname "$(dirname "$node_bin")")
node_version=$("$node_bin" --version)

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE is present"
else
  tarball="$CACHE_DIR/rootfs-bookworm-node-$node_version.tar"
  if [ ! -s "$tarball" ]; then
    mirror=$(debian_mirror)
    rootfs=$(mktemp -d "${TMPDIR:-/tmp}/supernetd-rootfs.XXXXXX")
    trap 'as_root rm -rf "$rootfs"' EXIT
    log "debootstrap --variant=minbase bookworm from $mirror"
    as_root debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (mirror $mirror; set SUPERNETD_DEBIAN_MIRROR)"; }
    # As the official slim images do: no package caches, lists, docs or translations.
    as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
      "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
    log "copying Node $node_version from $node_prefix to /usr/local"
    as_root mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
    as_root cp "$node_bin" "$rootfs/usr/local/bin/node"
    [ -d "$node_prefix/lib/node_modules/npm" ] || die "npm not found under $node_prefix/lib/node_modules"
    for pkg in npm corepack; do
      [ -d "$node_prefix/lib/node_modules/$pkg" ] && as_root cp -a "$node_prefix/lib/node_modules/$pkg" "$rootfs/usr/local/lib/node_modules/"
    done
    as_root ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    as_root ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    if [ -d "$rootfs/usr/local/lib/node_modules/corepack" ]; then
      as_root ln -sf ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"
    fi
    [ -d "$node_prefix/include/node" ] && as_root cp -a "$node_prefix/include/node" "$rootfs/usr/local/include/"
    # The official image's user.
    as_root chroot "$rootfs" groupadd --gid 1000 node
    as_root chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    as_root chroot "$rootfs" /usr/local/bin/node --version >/dev/null || die "the copied node does not run inside the rootfs"
    as_root tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    as_root rm -rf "$rootfs"
    trap - EXIT
  else
    log "using cached root file system $tarball"
  fi
  log "importing $BASE_IMAGE"
  docker import \
    --change 'ENV NODE_VERSION='"${node_version#v}" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    "$tarball" "$BASE_IMAGE" >/dev/null || die "docker import of $tarball failed"
fi

# 4. the service image
build_args=()
# Extra CA certificates this machine trusts (e.g. a TLS-inspecting proxy in front of the npm
# registry and PyPI) are handed to npm and pip inside the build.
shopt -s nullglob
cas=(/usr/local/share/ca-certificates/*.crt)
shopt -u nullglob
if ((${#cas[@]})); then build_args+=(--build-arg "NPM_EXTRA_CA=$(cat "${cas[@]}")"); fi

if ((BUILD)); then
  log "docker build --network host -t $IMAGE ."
  docker build --network host "${build_args[@]}" -t "$IMAGE" . || die "docker build failed"
fi

# 5. the image with the native TensorFlow backend
if ((BUILD_NATIVE)); then
  # The pin is setup-tensorflow.sh's own, so that the two cannot disagree.
  wheel=$(sed -n 's/^CPU_WHEEL=//p' scripts/setup-tensorflow.sh)
  sha=$(sed -n 's/^CPU_SHA256=//p' scripts/setup-tensorflow.sh)
  [ -n "$wheel" ] && [ -n "$sha" ] || die "scripts/setup-tensorflow.sh names no CPU_WHEEL/CPU_SHA256"
  cached="${SUPERNETD_TF_CACHE:-$PWD/node_modules/.cache/supernetd-tensorflow}/wheels/$wheel"
  native_args=("${build_args[@]}")
  if [ -f "$cached" ] && echo "$sha  $cached" | sha256sum -c --status; then
    wheel_image="supernetd-tensorflow-wheel:${sha:0:16}"
    if ! docker image inspect "$wheel_image" >/dev/null 2>&1; then
      log "importing $cached as $wheel_image"
      stage_dir=$(mktemp -d "${TMPDIR:-/tmp}/supernetd-wheel.XXXXXX")
      mkdir "$stage_dir/wheels"
      ln "$cached" "$stage_dir/wheels/" 2>/dev/null || cp "$cached" "$stage_dir/wheels/"
      tar -C "$stage_dir" -cf - wheels | docker import - "$wheel_image" >/dev/null \
        || { rm -rf "$stage_dir"; die "docker import of $cached failed"; }
      rm -rf "$stage_dir"
    fi
    native_args+=(--build-arg "TF_WHEEL_FROM=$wheel_image")
  else
    log "no verified $wheel in the setup:tensorflow cache; the build downloads it from PyPI"
  fi
  log "docker build --network host -f Dockerfile.native -t $NATIVE_IMAGE ."
  started=$SECONDS
  docker build --network host "${native_args[@]}" -f Dockerfile.native -t "$NATIVE_IMAGE" . \
    || die "docker build -f Dockerfile.native failed"
  size=$(docker image inspect --format '{{.Size}}' "$NATIVE_IMAGE")
  log "$NATIVE_IMAGE built in $((SECONDS - started))s, $((size / 1000000)) MB"
fi

log "done in ${SECONDS}s"
