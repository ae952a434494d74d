#!/bin/sh
# The main job: make the built-in busybox image (offline, from Debian's busybox-static)
# and run a container from it with `minidocker run`, showing every engine and kernel
# step it takes (--explain).
set -eu
cd "$(dirname "$0")/.."
MD=$PWD/build/minidocker
sh scripts/make-busybox-image.sh "$MD"
echo "== minidocker run --rm --explain busybox …"
set +e
"$MD" run --rm --explain --name "demo-$$" busybox sh -c \
  'echo "hello from $(hostname): I am pid $$, uid $(id -u)"; echo "processes I can see:"; ps; echo "my root:"; ls /; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; echo "my network (the default bridge):"; ip -4 -o addr show eth0; ip route'
status=$?
set -e
left=$(find /sys/fs/cgroup -maxdepth 2 -name "minidocker-*" | wc -l)
echo
echo "== done: the container exited with status $status; containers left: $("$MD" ps -aq | wc -l); cgroup dirs left: $left"
echo "   (lines starting with [explain] are minidocker's own steps, timed; the rest is the container's output)"
exit $status
