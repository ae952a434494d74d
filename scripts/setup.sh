#!/bin/sh
# Installs every Debian package minidocker builds, tests and benchmarks with.
# Idempotent: when everything is present it only checks and returns.
#
#   sudo scripts/setup.sh
set -eu

PACKAGES="
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libseccomp-dev libcap-dev libgtest-dev libgmock-dev libarchive-dev libsqlite3-dev libyaml-cpp-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev nftables libboost-dev
  busybox-static procps python3 iproute2 util-linux
  runc crun podman containerd
  hyperfine strace iperf3 curl
  python3-docker docker-compose chromium libssl-dev
"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The dashboard's browser tests: chromium, node/npm, tests/web/node_modules.
sh "$(dirname "$0")/setup-web.sh"
if [ -z "$missing" ]; then
  echo "setup: all packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup: missing packages:$missing — run this script as root" >&2
  exit 1
fi
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
