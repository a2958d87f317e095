#!/usr/bin/env bash
# The README's test command: installs missing packages, builds in Release, runs every test.
# PTQAT_TORCH=pip does the same against the CUDA LibTorch 2.x (scripts/variant.sh).
# Extra arguments go to ctest (e.g. scripts/test.sh -L mpi, or -LE slow to skip slow tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/variant.sh"
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
cd "$build_dir"
ctest --output-on-failure --timeout 600 --parallel "$(nproc)" "$@"
