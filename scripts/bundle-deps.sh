#!/usr/bin/env bash
# Brings ptqat's dependencies other than LibTorch and MPI to a machine without network access:
# downloads the Debian 12 packages and everything they depend on (on a Debian 12 machine with
# network access), and unpacks them into one prefix that scripts/build-cuda.sh --deps takes.
#
#   scripts/bundle-deps.sh OUT_PREFIX        # then copy OUT_PREFIX to the cluster
#
# The cluster needs glibc >= 2.36 (Debian 12's). MPI is the cluster's own (its launcher and
# network stack must match): load its module before building.
set -euo pipefail
out=${1:?usage: scripts/bundle-deps.sh OUT_PREFIX}
packages=(
  libhdf5-dev libtomlplusplus-dev libspdlog-dev libcli11-dev libsimdjson-dev libfmt-dev
  libzip-dev zlib1g-dev libpng-dev nlohmann-json3-dev libxxhash-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenblas-dev
)
# What every Debian-based system has already; unpacking them would only shadow the system's.
base='^(libc6|libc6-dev|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base|libcrypt1|debconf|dpkg|perl-base|tar|libselinux1|libpcre2-8-0|zlib1g|libzstd1|liblzma5|libbz2-1.0|libgmp10)$'
download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${packages[@]}" | grep -E '^[a-z0-9]' | sort -u | grep -vE "$base")
(cd "$download" && apt-get download "${closure[@]}" >/dev/null)
mkdir -p "$out"
for deb in "$download"/*.deb; do dpkg-deb -x "$deb" "$out"; done
echo "unpacked $(find "$download" -name '*.deb' | wc -l) packages into $out"
echo "build: scripts/build-cuda.sh --deps $out ...; run: export LD_LIBRARY_PATH=$out/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu):\$LD_LIBRARY_PATH"
