#!/bin/sh
# Generates ./configure from configure.ac (needs autoconf, automake, libtool,
# pkg-config and autoconf-archive: scripts/install-deps.sh installs them).
set -e
cd "$(dirname "$0")"
autoreconf --install --force --warnings=all
