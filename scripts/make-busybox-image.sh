#!/bin/sh
# Makes the built-in `busybox` image from Debian's busybox-static, offline:
# builds the rootfs (scripts/build-busybox-rootfs.sh), tars it and imports it with
# `minidocker import` as busybox:latest (CMD ["sh"]). Idempotent: does nothing when the
# root already has busybox:latest.
#
#   scripts/make-busybox-image.sh [MINIDOCKER [--root DIR]]
set -eu
cd "$(dirname "$0")/.."
MD=${1:-$PWD/build/minidocker}
[ $# -gt 0 ] && shift
if "$MD" "$@" image inspect busybox:latest >/dev/null 2>&1; then
  echo "busybox:latest is already there"
  exit 0
fi
work=$(mktemp -d /tmp/md-busybox-XXXXXX)
trap 'rm -rf "$work"' EXIT
sh scripts/build-busybox-rootfs.sh "$work/rootfs" >/dev/null
tar -C "$work/rootfs" --numeric-owner --owner=0 --group=0 -cf "$work/rootfs.tar" .
"$MD" "$@" import --change 'CMD ["sh"]' --message "busybox from Debian's busybox-static" "$work/rootfs.tar" busybox:latest
