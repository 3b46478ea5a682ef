#!/usr/bin/env bash
# npm run setup:tensorflow [-- --gpu] [-- --force]
#
# Builds the native TensorFlow binding of @tensorflow/tfjs-node (or, with --gpu, of
# @tensorflow/tfjs-node-gpu) against the TensorFlow C library shipped in a pinned PyPI wheel, so that
# the engine's `tensorflow` backend loads. It is an explicit step because:
#   - npm 11 runs no dependency install scripts unless they are allowed, so tfjs-node's own install
#     script (which downloads libtensorflow 2.9.1 from storage.googleapis.com) never runs; and
#   - that download is not reachable from every build machine, while PyPI usually is.
#
# Steps: fetch the wheel with pip (version and sha256 pinned), extract libtensorflow_cc.so.2,
# libtensorflow_framework.so.2 and include/ into the package's deps/, add the symlinks the binding's
# link line expects, build the binding with node-pre-gyp and npm's bundled node-gyp, then load it and
# print the TensorFlow version. Idempotent: a stamp in deps/ records what was built, and a second run
# only re-checks. Everything it writes is under node_modules (the wheel cache defaults to
# node_modules/.cache/supernetd-tensorflow; override with SUPERNETD_TF_CACHE), so the tree stays clean.
#
# Options:
#   --gpu    use PyPI's CUDA-enabled `tensorflow` wheel and the nvidia-* wheels its `and-cuda` extra
#            names, and build @tensorflow/tfjs-node-gpu. Needs an NVIDIA driver at run time. This
#            route has been built and tested on a CPU-only machine, not yet on a GPU machine (see
#            docs/engine.md).
#   --force  rebuild even if the stamp says it is done.
# Linux x86_64 only (the wheels pinned here are manylinux x86_64).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

TF_VERSION=2.21.0
# sha256 of the cp311 manylinux_2_27_x86_64 wheels, as PyPI lists them.
CPU_WHEEL=tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl
CPU_SHA256=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c
GPU_WHEEL=tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl
GPU_SHA256=9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124

variant=cpu force=0
for a in "$@"; do
  case "$a" in
    --gpu) variant=gpu ;;
    --force) force=1 ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup:tensorflow: unknown option '$a' (expected --gpu, --force)" >&2; exit 2 ;;
  esac
done

say() { printf 'setup:tensorflow: %s\n' "$*"; }
die() { printf 'setup:tensorflow: error: %s\n' "$*" >&2; exit 1; }

if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  die "only Linux x86_64 is supported (the pinned wheels are manylinux x86_64); this is $(uname -s) $(uname -m)"
fi

if [ "$variant" = gpu ]; then
  PKG=@tensorflow/tfjs-node-gpu PIP_NAME=tensorflow WHEEL=$GPU_WHEEL SHA256=$GPU_SHA256
else
  PKG=@tensorflow/tfjs-node PIP_NAME=tensorflow-cpu WHEEL=$CPU_WHEEL SHA256=$CPU_SHA256
fi
CACHE="${SUPERNETD_TF_CACHE:-$ROOT/node_modules/.cache/supernetd-tensorflow}"
PKG_DIR="$ROOT/node_modules/$PKG"
DEPS="$PKG_DIR/deps"
STAMP_WANT="$PKG $WHEEL sha256:$SHA256 node-abi:$(node -p process.versions.modules)"
SECONDS=0

find_python() {
  for p in python3 python; do
    if command -v "$p" >/dev/null && "$p" -m pip --version >/dev/null 2>&1; then echo "$p"; return; fi
  done
  die "pip is needed (python3 -m pip); install python3-pip"
}

check() {
  # Loads the binding the way the engine does (through the package) and prints its TF version.
  (cd "$ROOT/services/engine" && TF_CPP_MIN_LOG_LEVEL=2 node -e "
    const tf = require('$PKG');
    const v = tf.backend().binding.TF_Version;
    const y = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).sum().dataSync()[0]);
    if (y !== 12) throw new Error('matMul check gave ' + y);
    console.log('setup:tensorflow: $PKG loads; backend ' + tf.getBackend() + ', TensorFlow ' + v);
    if (v !== '$TF_VERSION') { console.error('expected TensorFlow $TF_VERSION'); process.exit(1); }
  ")
}

# 1. The npm package itself (an optional dependency; installed without its install script).
if [ ! -f "$PKG_DIR/package.json" ]; then
  say "installing $PKG without its install script"
  npm install --ignore-scripts --no-save --no-audit --no-fund >/dev/null
  [ -f "$PKG_DIR/package.json" ] || die "$PKG is not in node_modules after npm install"
fi

binding_file() { ls "$PKG_DIR"/lib/napi-v*/tfjs_binding.node 2>/dev/null | head -1; }

if [ "$force" = 0 ] && [ -f "$DEPS/.supernetd-setup" ] && [ "$(cat "$DEPS/.supernetd-setup")" = "$STAMP_WANT" ] \
  && [ -n "$(binding_file)" ]; then
  say "already built ($STAMP_WANT); checking it loads"
  check || die "the binding was built but does not load; rerun with --force"
  exit 0
fi

PY="$(find_python)"
mkdir -p "$CACHE/wheels"

# 2. The wheel, pinned by version and sha256. --platform/--python-version make pip fetch the cp311
# manylinux wheel whatever Python runs pip.
pip_download() { # requirement-file [extra pip args...]
  local req="$1"; shift
  "$PY" -m pip download --no-deps --only-binary=:all: --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --python-version 3.11 \
    --implementation cp --abi cp311 --abi abi3 --abi none -d "$CACHE/wheels" --disable-pip-version-check \
    --progress-bar off -q -r "$req" "$@"
}
if [ ! -f "$CACHE/wheels/$WHEEL" ] || ! echo "$SHA256  $CACHE/wheels/$WHEEL" | sha256sum -c --status; then
  say "downloading $PIP_NAME==$TF_VERSION from PyPI"
  printf '%s==%s --hash=sha256:%s\n' "$PIP_NAME" "$TF_VERSION" "$SHA256" >"$CACHE/req-$variant.txt"
  rm -f "$CACHE/wheels/$WHEEL"
  pip_download "$CACHE/req-$variant.txt" --require-hashes
fi
echo "$SHA256  $CACHE/wheels/$WHEEL" | sha256sum -c --status || die "$WHEEL does not match sha256 $SHA256"

# 3. The C library and headers into deps/, with the names binding.gyp links against (-ltensorflow,
# -ltensorflow_framework; the binding's rpath is $ORIGIN/../../deps/lib).
say "extracting the TensorFlow C library into $PKG/deps"
rm -rf "$DEPS" "$PKG_DIR/lib" "$PKG_DIR/build"
mkdir -p "$DEPS/lib"
"$PY" - "$CACHE/wheels/$WHEEL" "$DEPS" <<'EOF'
import os, shutil, sys, zipfile
whl, deps = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
found = set()
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        n = info.filename
        if n in libs:
            dest = os.path.join(deps, 'lib', os.path.basename(n)); found.add(n)
        elif n.startswith('tensorflow/include/') and not n.endswith('/'):
            dest = os.path.join(deps, 'include', n[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out, 1 << 20)
missing = libs - found
if missing:
    sys.exit('wheel lacks ' + ', '.join(sorted(missing)))
EOF
[ -f "$DEPS/include/tensorflow/c/c_api.h" ] && [ -f "$DEPS/include/tensorflow/c/eager/c_api.h" ] \
  || die "the wheel's include/ lacks the TF C API headers"
(
  cd "$DEPS/lib"
  ln -sf libtensorflow_cc.so.2 libtensorflow.so
  ln -sf libtensorflow_cc.so.2 libtensorflow.so.2
  ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1 # the name tfjs-node's own install script uses
  ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so
)

# 3b. GPU: the CUDA libraries the `and-cuda` extra names. The CUDA build of libtensorflow_cc.so.2
# looks for them at $ORIGIN/../nvidia/*/lib, which from deps/lib is deps/nvidia.
if [ "$variant" = gpu ]; then
  say "downloading the nvidia-* wheels of tensorflow[and-cuda]"
  "$PY" - "$CACHE/wheels/$WHEEL" >"$CACHE/req-cuda.txt" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
    for line in z.read(meta).decode().splitlines():
        if line.startswith('Requires-Dist:') and 'extra == "and-cuda"' in line:
            print(line.split(':', 1)[1].split(';')[0].strip())
EOF
  [ -s "$CACHE/req-cuda.txt" ] || die "the wheel names no and-cuda requirements"
  pip_download "$CACHE/req-cuda.txt"
  "$PY" - "$CACHE/wheels" "$CACHE/req-cuda.txt" "$DEPS" <<'EOF'
import glob, os, re, shutil, sys, zipfile
wheels, req, deps = sys.argv[1:]
names = [re.split(r'[<>=!~ ]', l.strip())[0].replace('-', '_') for l in open(req) if l.strip()]
for name in names:
    whl = sorted(glob.glob(os.path.join(wheels, name + '-*.whl')))
    if not whl:
        sys.exit('no wheel for ' + name)
    with zipfile.ZipFile(whl[-1]) as z:
        for info in z.infolist():
            if info.filename.startswith('nvidia/') and not info.filename.endswith('/'):
                dest = os.path.join(deps, info.filename)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with z.open(info) as src, open(dest, 'wb') as out:
                    shutil.copyfileobj(src, out, 1 << 20)
EOF
fi

# 4. The binding, built from source with npm's bundled node-gyp.
NPM_DIR="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
for g in "$NPM_DIR/node_modules/node-gyp/bin/node-gyp.js" "$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"; do
  if [ -f "$g" ]; then export npm_config_node_gyp="$g"; break; fi
done
[ -n "${npm_config_node_gyp:-}" ] || die "npm's bundled node-gyp was not found next to $(command -v npm)"
NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$NODE_PREFIX/include/node/node_api.h" ]; then
  export npm_config_nodedir="$NODE_PREFIX" # Node's headers are installed; node-gyp need not download them
fi
PRE_GYP="$(cd "$PKG_DIR" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')")"
say "building the binding (node-gyp $(node "$npm_config_node_gyp" --version 2>/dev/null), headers ${npm_config_nodedir:-downloaded})"
(cd "$PKG_DIR" && node "$PRE_GYP" install --build-from-source --loglevel=warn >"$CACHE/build-$variant.log" 2>&1) \
  || { tail -40 "$CACHE/build-$variant.log" >&2; die "the binding did not build (log: $CACHE/build-$variant.log)"; }
[ -n "$(binding_file)" ] || die "node-pre-gyp finished but no tfjs_binding.node was written"
rm -rf "$PKG_DIR/build" # object files; the binding was copied to lib/

# 5. Check it loads, then stamp.
check || die "the binding was built but does not load"
echo "$STAMP_WANT" >"$DEPS/.supernetd-setup"
say "done in ${SECONDS}s"
