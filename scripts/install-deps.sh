#!/bin/sh
# Installs everything pactcl needs to build, test and run its demo on Debian 12
# (bookworm) or a derivative. Used by the README and by .ci/run, so a fresh
# machine and CI get exactly the same set. Run as root (or through sudo).
set -eu

# clang, libclang-rt-dev (libFuzzer; only recommended by clang, so named) and
# valgrind serve the sanitizer, fuzz and memcheck runs (fuzz/README.md).
packages="
  build-essential autoconf automake libtool pkg-config autoconf-archive xxd
  check libsubunit-dev
  libopenblas-dev
  ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd clinfo
  libpng-dev libjpeg62-turbo-dev zlib1g-dev
  python3-numpy
  dataset-fashion-mnist time
  clang libclang-rt-dev valgrind
"

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E sh "$0" "$@"
    fi
    echo "install-deps.sh: must run as root (apt-get install)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $packages
