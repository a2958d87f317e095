#!/usr/bin/env bash
# Installs the pinned PyTorch wheel from PyPI (a complete CUDA LibTorch: headers, libraries,
# TorchConfig.cmake) into a virtual environment outside the checkout, once per version, and
# prints the venv's path. Used by PTQAT_TORCH=pip scripts/build.sh | test.sh | demo.sh.
#
#   scripts/torch_venv.sh            # prints e.g. ~/.cache/ptqat/torch-2.15.0
#
# The pin lives here and nowhere else. 2.15.0 is built against CUDA 13 (the nvcc 13 the project's
# own CUDA sources compile with) and the cxx11 libstdc++ ABI of Debian's packages.
set -euo pipefail
torch_version=2.15.0
venv=${PTQAT_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ptqat/torch-$torch_version}

if [[ ! -f "$venv/.complete" ]]; then
  echo "installing torch==$torch_version from PyPI into $venv (once; about 4 GB)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  # numpy: tests/support/torch_checkpoint.py writes checkpoints with it beside torch.
  "$venv/bin/pip" install --quiet --no-cache-dir "torch==$torch_version" numpy >&2
  touch "$venv/.complete"  # complete or reinstalled: an interrupted install starts over
fi
echo "$venv"
