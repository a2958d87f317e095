#!/usr/bin/env bash
# Configures and builds ptqat in Release into build/ (ccache and the shared torch PCH keep
# rebuilds on 2 cores short). Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${PTQAT_BUILD_DIR:-$root/build}
jobs=${PTQAT_BUILD_JOBS:-$(nproc)}

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir" --parallel "$jobs"
