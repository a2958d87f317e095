#!/usr/bin/env bash
# Installs the Debian packages ptqat builds against, only those that are missing.
# Sourced by demo.sh and test.sh; safe to run on its own.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ccache
  libtorch-dev libopenblas-dev libsleef-dev   # OpenBLAS: the reference BLAS is ~15x slower
  libopenmpi-dev openmpi-bin
  libhdf5-dev libtomlplusplus-dev libspdlog-dev libcli11-dev libsimdjson-dev
  libfmt-dev libzip-dev zlib1g-dev libpng-dev nlohmann-json3-dev libxxhash-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-h5py python3-pandas   # tests read the results as docs/results.md shows users
  gnuplot-nox    # ptqat report --plots
  slurmctld slurmd slurm-client munge   # the test that starts a real Slurm cluster
)

# PTQAT_TORCH=pip: the PyTorch wheel goes into a virtual environment (scripts/torch_venv.sh).
if [[ "${PTQAT_TORCH:-}" == pip ]]; then packages+=(python3-venv); fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
