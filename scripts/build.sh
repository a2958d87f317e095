#!/usr/bin/env bash
# Configures and builds ptqat in Release (ccache and the shared torch PCH keep rebuilds on 2 cores
# short): into build/ against Debian's LibTorch 1.13, or with PTQAT_TORCH=pip into build-torch2/
# against the CUDA LibTorch 2.x of the pinned PyTorch wheel (scripts/variant.sh).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/variant.sh"

if [[ "${PTQAT_TORCH:-}" == pip ]]; then
  venv=$("$root/scripts/torch_venv.sh")
  # Hopper (sm_90) code plus PTX for later GPUs; NCCL is the wheel's own (cmake/Dependencies.cmake).
  exec "$root/scripts/build-cuda.sh" --python "$venv/bin/python" --arch "9.0+PTX" \
    --build "$build_dir" -- "$@"
fi
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# PTQAT_BUILD_TARGET=ptqat builds the executable alone (scripts/paper-demo.sh), not the tests.
cmake --build "$build_dir" --parallel "${PTQAT_BUILD_JOBS:-$(nproc)}" \
  ${PTQAT_BUILD_TARGET:+--target "$PTQAT_BUILD_TARGET"}
