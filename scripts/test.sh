#!/bin/sh
# Sets up, builds and runs the whole test suite (unit + integration, as root).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/build.sh
ctest --preset release --output-on-failure "$@"
