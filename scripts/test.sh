#!/usr/bin/env bash
# The README's test command: installs missing packages, builds in Release, runs every test.
# Extra arguments go to ctest (e.g. scripts/test.sh -L mpi, or -LE slow to skip slow tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
cd "${PTQAT_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 --parallel "$(nproc)" "$@"
