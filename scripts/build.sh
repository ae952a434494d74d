#!/bin/sh
# Configures and builds the release preset (build/).
set -eu
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release
