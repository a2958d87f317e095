#!/usr/bin/env bash
# Builds ptqat against a CUDA LibTorch (docs/cluster.md "Building for GPUs").
#
#   scripts/build-cuda.sh [--torch PREFIX | --python PYTHON] [--arch "8.0;9.0+PTX"] [--deps PREFIX]
#                         [--build DIR] [-- cmake -D...]
#
# --torch   LibTorch's CMake prefix: the official LibTorch archive (cxx11 ABI) unpacked.
# --python  a Python whose PyTorch provides LibTorch (torch.utils.cmake_prefix_path); default
#           python3, when no --torch is given. PTQAT_TORCH=pip scripts/build.sh passes the venv's.
# --arch    CUDA architectures in PyTorch's TORCH_CUDA_ARCH_LIST form, default "8.0;9.0+PTX"
#           (A100, H100, and PTX for later GPUs); CMAKE_CUDA_ARCHITECTURES is derived from it.
# --deps    a prefix with the other dependencies unpacked (scripts/bundle-deps.sh), for machines
#           without network access; default: the system's.
# --build   build folder, default build-cuda.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
torch_prefix=""
python=python3
arch="8.0;9.0+PTX"
deps=""
build_dir="$root/build-cuda"
extra=()
while (($#)); do
  case "$1" in
    --torch) torch_prefix=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --deps) deps=$2; shift 2 ;;
    --build) build_dir=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "error: build-cuda.sh: unknown argument '$1' (see the usage at the top of the script)" >&2; exit 2 ;;
  esac
done

options=()
if [[ -z "$torch_prefix" ]]; then
  # The interop tests check ptqat's files against this Python's real torch.save / torch.load.
  options+=("-DPTQAT_TORCH_PYTHON=$(command -v "$python")")
  torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) || {
    echo "error: build-cuda.sh: no --torch given and $python cannot import torch" >&2
    exit 1
  }
  # Debian's libstdc++ ABI: PyTorch wheels before 2.7 were built with the old one and cannot be
  # linked with the Debian-built dependencies (spdlog, GoogleTest, ...).
  abi=$("$python" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
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
if [[ -n "$deps" ]]; then options+=("-DPTQAT_DEPS_PREFIX=$deps"); fi
# "8.0;9.0+PTX" -> CMake's "80-real;90-real;90-virtual" (SASS per entry, PTX where +PTX).
cmake_arch=()
for entry in ${arch//;/ }; do
  number=${entry%+PTX}
  cmake_arch+=("${number/./}-real")
  if [[ "$entry" == *+PTX ]]; then cmake_arch+=("${number/./}-virtual"); fi
done
export TORCH_CUDA_ARCH_LIST=${arch//;/ }
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix_path" -DCMAKE_CUDA_ARCHITECTURES="$(IFS=';'; echo "${cmake_arch[*]}")" \
  -DPTQAT_REQUIRE_CUDA=ON "${options[@]}" "${extra[@]}"
cmake --build "$build_dir" --parallel "${PTQAT_BUILD_JOBS:-$(nproc)}"
echo "built: $build_dir/runner/ptqat (CUDA LibTorch from $torch_prefix)"
