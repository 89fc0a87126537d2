#!/bin/sh
# Generates ./configure from configure.ac (needs autoconf, automake, libtool,
# pkg-config and autoconf-archive: scripts/install-deps.sh installs them).
set -e
cd "$(dirname "$0")"
mkdir -p m4 # libtoolize writes its macros here
autoreconf --install --force --warnings=all
