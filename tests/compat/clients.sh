#!/bin/sh
# Real clients drive minidocker-runtime: Podman (--runtime) and containerd's ctr
# (--runc-binary). Everything lives under a private temp dir (podman --root/--runroot,
# a private containerd with its own root/state/socket) and is removed on exit, even on
# failure.
#
#   sh tests/compat/clients.sh RUNTIME ROOTFS
set -eu
RUNTIME=$1
ROOTFS=$2
W=$(mktemp -d /tmp/md-compat-XXXXXX)
CTRD_PID=""
cleanup() {
  set +e
  podman $PODMAN_OPTS rm -af -t 0 >/dev/null 2>&1
  podman $PODMAN_OPTS system reset -f >/dev/null 2>&1
  if [ -n "$CTRD_PID" ]; then
    ctr --address "$W/ctrd/containerd.sock" tasks kill -s KILL md-ctr-2 >/dev/null 2>&1
    kill "$CTRD_PID" 2>/dev/null; wait "$CTRD_PID" 2>/dev/null
  fi
  grep " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
PODMAN_OPTS="--root $W/podman/root --runroot $W/podman/run --cgroup-manager cgroupfs --events-backend file --runtime $RUNTIME"
U="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
fail() { echo "FAIL: $*" >&2; exit 1; }
P() { podman $PODMAN_OPTS "$@"; }

echo "== podman"
tar -C "$ROOTFS" -c . | P import - localhost/mdbusybox >/dev/null
[ "$(P run --rm $U --network none localhost/mdbusybox echo hi)" = hi ] || fail "podman run --rm echo hi"
P run -d --network none --name md-web $U localhost/mdbusybox sleep 1000 >/dev/null || fail "podman run -d"
[ "$(P exec md-web sh -c 'echo exec-ok')" = exec-ok ] || fail "podman exec"
P pause md-web >/dev/null || fail "podman pause"
[ "$(P inspect md-web --format '{{.State.Status}}')" = paused ] || fail "status after pause"
P unpause md-web >/dev/null || fail "podman unpause"
[ "$(P inspect md-web --format '{{.State.Status}}')" = running ] || fail "status after unpause"
P stop -t 1 md-web >/dev/null || fail "podman stop"
[ "$(P inspect md-web --format '{{.State.Status}}')" = exited ] || fail "status after stop"
P rm md-web >/dev/null || fail "podman rm"
[ -z "$(P ps -aq)" ] || fail "containers left after rm"
echo "podman: run --rm, run -d, exec, pause, unpause, stop, rm: ok"

echo "== containerd (ctr --runc-binary)"
mkdir -p "$W/ctrd"
cat > "$W/ctrd/config.toml" <<TOML
version = 2
root = "$W/ctrd/root"
state = "$W/ctrd/state"
[grpc]
  address = "$W/ctrd/containerd.sock"
TOML
containerd --config "$W/ctrd/config.toml" >"$W/ctrd/log" 2>&1 &
CTRD_PID=$!
C="ctr --address $W/ctrd/containerd.sock"
i=0
until $C version >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 200 ] || fail "containerd did not start: $(tail -5 "$W/ctrd/log")"; sleep 0.05
done
P save --format oci-archive -o "$W/busybox-oci.tar" localhost/mdbusybox >/dev/null 2>&1 || fail "podman save"
$C image import --base-name localhost/mdbusybox "$W/busybox-oci.tar" >/dev/null || fail "ctr image import"
[ "$($C run --rm --runc-binary "$RUNTIME" localhost/mdbusybox:latest md-ctr-1 echo hi)" = hi ] || fail "ctr run echo hi"
# A detached task: exec, pause/resume, kill, delete — each a runtime verb the shim calls.
$C run -d --runc-binary "$RUNTIME" localhost/mdbusybox:latest md-ctr-2 sleep 1000 >/dev/null || fail "ctr run -d"
[ "$($C task exec --exec-id e1 md-ctr-2 echo exec-ok)" = exec-ok ] || fail "ctr task exec"
$C task pause md-ctr-2 || fail "ctr task pause"
$C task ls | grep -q "md-ctr-2.*PAUSED" || fail "task not PAUSED: $($C task ls)"
$C task resume md-ctr-2 || fail "ctr task resume"
$C task ls | grep -q "md-ctr-2.*RUNNING" || fail "task not RUNNING: $($C task ls)"
$C task kill -s SIGKILL md-ctr-2 || fail "ctr task kill"
i=0
until $C task ls | grep -q "md-ctr-2.*STOPPED"; do
  i=$((i + 1)); [ $i -lt 200 ] || fail "task never stopped: $($C task ls)"; sleep 0.05
done
$C task delete md-ctr-2 >/dev/null || fail "ctr task delete"
$C container delete md-ctr-2 || fail "ctr container delete"
echo "containerd: ctr run --rm echo hi, run -d, task exec, pause, resume, kill, delete: ok"
