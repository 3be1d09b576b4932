#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (run as root for the apt step):
# apt packages (libtorch-dev, redis-server, python3-torch, chromium), npm ci, the native addon build.
# Quick when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_missing=()
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/ATen/ATen.h ]; then apt_missing+=(libtorch-dev); fi
# Debian's libtorch calls BLAS through libblas.so.3, which is the slow reference BLAS unless an
# optimised one is installed: OpenBLAS (OpenMP build, sharing libtorch's thread pool) makes
# matrix products 3-4x faster.
if [ -z "${LIBTORCH:-}" ] && ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then apt_missing+=(libopenblas0-openmp); fi
command -v redis-server >/dev/null 2>&1 || apt_missing+=(redis-server)
# PyTorch for the tests that run exported loss modules (test/loss/pytorch_export.test.ts, cli.test.ts)
# and for the PyTorch reference of the benchmarks: Debian's build, for the system Python.
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || apt_missing+=(python3-torch)
command -v g++ >/dev/null 2>&1 || apt_missing+=(g++)
command -v make >/dev/null 2>&1 || apt_missing+=(make)
# The dashboard's browser test drives Debian's chromium through puppeteer-core (which downloads none).
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${apt_missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install ${apt_missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${apt_missing[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

addon=build/Release/torch_addon.node
stamp=build/.libtorch
want="${LIBTORCH:-system}"
if [ ! -f "$addon" ] || [ native/torch_addon.cc -nt "$addon" ] || [ binding.gyp -nt "$addon" ] \
   || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: building the libtorch addon (libtorch: $want)"
  npx --no-install node-gyp rebuild -j 2 >/tmp/cse-addon-build.log 2>&1 || {
    tail -40 /tmp/cse-addon-build.log >&2
    echo "setup: addon build failed (full log: /tmp/cse-addon-build.log)" >&2
    exit 1
  }
  echo "$want" >"$stamp"
fi

# Plain-JS build of src/ (esbuild, about a second): what bin/cse-autoloss.js runs, and the
# package exports. The tests spawn the CLI, so they run this build.
node scripts/build.mjs >/dev/null
