#!/usr/bin/env bash
# Brings what a GPU node with PyTorch lacks to build and test ptqat, without network access: the
# Debian 12 packages of HDF5, toml++, spdlog/fmt, CLI11, simdjson, libzip, OpenMPI and the
# header-only and test libraries, with the libraries they load that such a node does not have;
# downloaded on a Debian 12 machine with network access and unpacked into one prefix (under
# 50 MiB) that scripts/build-cuda.sh --deps and scripts/gpu-check.sh --deps take. LibTorch is the
# node's own PyTorch's.
#
#   scripts/bundle-deps.sh OUT_PREFIX        # then carry OUT_PREFIX.tar.xz to the node
#
# The node needs glibc >= 2.36 (Debian 12's). On a cluster, MPI should be the cluster's own (its
# launcher and network stack must match): load its module and leave the bundle's OpenMPI unused.
set -euo pipefail
out=${1:?usage: scripts/bundle-deps.sh OUT_PREFIX}
packages=(
  libhdf5-dev libtomlplusplus-dev libspdlog-dev libcli11-dev libsimdjson-dev libfmt-dev
  libzip-dev libpng-dev nlohmann-json3-dev libxxhash-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenmpi-dev openmpi-bin
)
# What a GPU node that builds against its PyTorch has already (the C/C++ toolchain, glibc,
# Python, base libraries), and what the bundle does not need (Fortran, Perl, LLVM, docs): the walk
# over dependencies does not enter them.
have='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|rpcsvc-proto|libnsl.*|libtirpc.*|gcc|gcc-[0-9]+.*|g\+\+.*|cpp.*|libgcc.*|libstdc\+\+.*|gfortran.*|libgfortran.*|binutils.*|libbinutils|libctf.*|libgprofng.*|libsframe.*|libjansson.*|libasan.*|libtsan.*|libubsan.*|liblsan.*|libhwasan.*|libitm.*|libquadmath.*|libatomic.*|libcc1.*|libisl.*|libmpc.*|libmpfr.*|libgmp.*|make|autoconf|automake|autotools-dev|libtool|libltdl.*|m4|perl.*|libperl.*|python3.*|libpython.*|.*llvm.*|.*clang.*|libz3.*|libicu.*|libxml2.*|debconf|dpkg|tar|base-files|.*-doc|libselinux1|libpcre2.*|zlib1g|libzstd1|liblzma5|libbz2-1.0|libssl3|libcurl[34].*|libkrb5.*|libk5crypto.*|libgssapi.*|libcom-err2|libkeyutils1|libidn2.*|libunistring.*|libnghttp2.*|librtmp.*|libssh2.*|libpsl.*|libldap.*|libsasl2.*|libbrotli.*|libgnutls.*|libnettle.*|libhogweed.*|libp11-kit.*|libtasn1.*|libffi.*|libsystemd0|libudev1|libcap2|libgcrypt.*|libgpg-error.*|liblz4.*|libmd0|libbsd0|libdb5.3|libtinfo6|libncurses.*|libedit2|libreadline.*|libx11.*|libxcb.*|libxau6|libxdmcp6|x11-common|libxext.*|libxrender.*|libxt6|libice6|libsm6|sensible-utils|ucf|libexpat1.*|libuuid1|libblkid1|libmount1|libacl1|libattr1|libaudit.*|libcap-ng0|libpam.*|libsemanage.*|libsepol.*|openssh-client|lsb-base|sysvinit-utils|adduser|passwd|login|mount|util-linux.*|coreutils|libsqlite3.*|libgdbm.*|mailcap|mime-support|media-types|tzdata|ca-certificates|openssl|netbase|libssl-dev|libcurl4-openssl-dev|libkrb5-dev|comerr-dev|krb5-multidev|libgssrpc4|libkadm5.*|libkdb5.*|libidn2-dev|libldap-dev|libnghttp2-dev|libpsl-dev|librtmp-dev|libssh2-1-dev|libgnutls28-dev|libbrotli-dev|libzstd-dev|zlib1g-dev|liblzma-dev|libbz2-dev|pkg-config|pkgconf.*|libpkgconf.*)$'
declare -A seen=()
queue=("${packages[@]}")
closure=()
while ((${#queue[@]})); do
  package=${queue[0]}
  queue=("${queue[@]:1}")
  [[ -n "${seen[$package]:-}" ]] && continue
  seen[$package]=1
  [[ "$package" =~ $have ]] && continue
  closure+=("$package")
  mapfile -t -O "${#queue[@]}" queue < <(apt-cache depends --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "$package" |
    awk '$1 ~ /Depends:$/ && $2 !~ /^</ {print $2}' | sed 's/:any$//')
done
download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
(cd "$download" && apt-get download "${closure[@]}" >/dev/null)
mkdir -p "$out"
for deb in "$download"/*.deb; do dpkg-deb -x "$deb" "$out"; done
# Only weight for ptqat: documentation, Fortran modules, sources, static archives (GoogleTest's and
# Google Benchmark's are the only ones it links).
rm -rf "$out"/usr/share/{doc,man,locale,lintian,javascript} "$out"/usr/src \
  "$out"/usr/lib/*/fortran "$out"/usr/include/catch2
find "$out" -name '*.a' ! -name 'libgtest*' ! -name 'libgmock*' ! -name 'libbenchmark*' -delete
tar -C "$(dirname "$out")" -cJf "$out.tar.xz" "$(basename "$out")"
echo "unpacked $(find "$download" -name '*.deb' | wc -l) packages into $out ($(du -sh "$out" | cut -f1));" \
  "to carry: $out.tar.xz ($(du -sh "$out.tar.xz" | cut -f1))"
echo "build: scripts/build-cuda.sh --deps $out ...; run: export LD_LIBRARY_PATH=$out/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu):\$LD_LIBRARY_PATH"
