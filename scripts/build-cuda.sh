#!/usr/bin/env bash
# Builds ptqat against a CUDA LibTorch (docs/cluster.md "Building for GPUs").
#
#   scripts/build-cuda.sh [--torch PREFIX] [--arch "80;90"] [--deps PREFIX] [--build DIR] [-- cmake -D...]
#
# --torch   LibTorch's CMake prefix: the official LibTorch archive (cxx11 ABI) unpacked, or the
#           one inside an installed PyTorch (default: python3 -c 'import torch;
#           print(torch.utils.cmake_prefix_path)').
# --arch    CUDA architectures (TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES), default "80;90"
#           (A100, H100).
# --deps    a prefix with the other dependencies unpacked (scripts/bundle-deps.sh), for machines
#           without network access; default: the system's.
# --build   build folder, default build-cuda.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
torch_prefix=""
arch="80;90"
deps=""
build_dir="$root/build-cuda"
extra=()
while (($#)); do
  case "$1" in
    --torch) torch_prefix=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --deps) deps=$2; shift 2 ;;
    --build) build_dir=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "error: build-cuda.sh: unknown argument '$1' (see the usage at the top of the script)" >&2; exit 2 ;;
  esac
done

if [[ -z "$torch_prefix" ]]; then
  torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) || {
    echo "error: build-cuda.sh: no --torch given and python3 cannot import torch" >&2
    exit 1
  }
  # Debian's libstdc++ ABI: PyTorch wheels before 2.7 were built with the old one and cannot be
  # linked with the Debian-built dependencies (spdlog, GoogleTest, ...).
  abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  if [[ "$abi" != 1 ]]; then
    echo "error: build-cuda.sh: this PyTorch uses the pre-C++11 libstdc++ ABI; use PyTorch >= 2.7" \
         "or the cxx11-ABI LibTorch archive (--torch)" >&2
    exit 1
  fi
fi
[[ -f "$torch_prefix/Torch/TorchConfig.cmake" || -f "$torch_prefix/share/cmake/Torch/TorchConfig.cmake" ]] || {
  echo "error: build-cuda.sh: $torch_prefix holds no Torch/TorchConfig.cmake (expected LibTorch's CMake prefix)" >&2
  exit 1
}

prefix_path="$torch_prefix"
options=()
if [[ -n "$deps" ]]; then options+=("-DPTQAT_DEPS_PREFIX=$deps"); fi
export TORCH_CUDA_ARCH_LIST=${arch//;/ }
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix_path" -DCMAKE_CUDA_ARCHITECTURES="$arch" \
  -DPTQAT_REQUIRE_CUDA=ON "${options[@]}" "${extra[@]}"
cmake --build "$build_dir" --parallel "${PTQAT_BUILD_JOBS:-$(nproc)}"
echo "built: $build_dir/runner/ptqat (CUDA LibTorch from $torch_prefix)"
