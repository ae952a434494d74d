#!/bin/sh
# API server benchmark: GET /containers/json?all=1 (curl over the unix socket) and
# `docker ps -a` (the real docker CLI) against minidocker's server, Podman's service
# (`podman system service`) and dockerd, each holding 200 created containers (3 of them
# running), side by side in one hyperfine run, reported as ratios. Also the servers' RSS
# with those 200 containers (minidocker serve vs podman service vs dockerd + containerd).
#
#   sudo sh bench/api.sh [runs] [containers]
#
# Every engine gets the same busybox image (our rootfs tar, imported) and its own state
# under a private directory; everything is removed at the end. Podman and Docker are
# skipped with a note when they are not installed.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-30}
N=${2:-200}
MD=${MD:-$PWD/build/minidocker}
WORK=$(mktemp -d /tmp/mdapi-XXXXXX)
MD_PID= PODMAN_PID= DOCKERD_PID=
cleanup() {
  set +e
  [ -n "$MD_PID" ] && kill "$MD_PID" && wait "$MD_PID" 2>/dev/null
  "$MD" --root "$WORK/md" rm -f $("$MD" --root "$WORK/md" ps -aq 2>/dev/null) >/dev/null 2>&1
  if [ -n "$PODMAN_PID" ]; then kill "$PODMAN_PID"; wait "$PODMAN_PID" 2>/dev/null; fi
  [ -n "${P:-}" ] && $P rm -f -a >/dev/null 2>&1
  if [ -n "$DOCKERD_PID" ]; then
    $D rm -f $($D ps -aq) >/dev/null 2>&1
    kill "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null
  fi
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
wait_sock() { for i in $(seq 1 150); do curl -sf --unix-socket "$1" http://d/_ping >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "no server on $1" >&2; return 1; }
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }

sh scripts/build-busybox-rootfs.sh "$WORK/rootfs" >/dev/null
tar -C "$WORK/rootfs" --numeric-owner -cf "$WORK/busybox.tar" .

echo "== creating $N containers per engine (3 running)"
M="$MD --root $WORK/md"
$M import --change 'CMD ["sh"]' "$WORK/busybox.tar" busybox:latest >/dev/null
for i in $(seq 1 "$N"); do $M create --network none --name "c$i" busybox sleep 1000 >/dev/null; done
for i in 1 2 3; do $M start "c$i" >/dev/null; done
$MD --root "$WORK/md" serve -H "unix://$WORK/md.sock" >"$WORK/md.log" 2>&1 &
MD_PID=$!
wait_sock "$WORK/md.sock"

set -- -n "minidocker curl" "curl -s -o /dev/null --unix-socket $WORK/md.sock http://d/v1.41/containers/json?all=1" \
       -n "minidocker docker-ps" "docker -H unix://$WORK/md.sock ps -a"
if command -v podman >/dev/null; then
  P="podman --root $WORK/podman --runroot $WORK/podman-run --runtime /usr/sbin/runc --cgroup-manager cgroupfs --events-backend file"
  PU="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
  $P import "$WORK/busybox.tar" localhost/busybox:latest >/dev/null
  for i in $(seq 1 "$N"); do $P create $PU --network none --name "c$i" localhost/busybox:latest sleep 1000 >/dev/null; done
  for i in 1 2 3; do $P start "c$i" >/dev/null; done
  $P system service -t 0 "unix://$WORK/podman.sock" >"$WORK/podman.log" 2>&1 &
  PODMAN_PID=$!
  wait_sock "$WORK/podman.sock"
  set -- "$@" -n "podman curl" "curl -s -o /dev/null --unix-socket $WORK/podman.sock http://d/v1.41/containers/json?all=1" \
              -n "podman docker-ps" "docker -H unix://$WORK/podman.sock ps -a"
else
  echo "(podman not installed: skipped)"
fi
if command -v dockerd >/dev/null; then
  dockerd --data-root "$WORK/docker" --exec-root "$WORK/dx" -H "unix://$WORK/docker.sock" \
    --pidfile "$WORK/docker.pid" --iptables=false --ip6tables=false --bridge=none >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  D="docker -H unix://$WORK/docker.sock"
  wait_sock "$WORK/docker.sock"
  $D import "$WORK/busybox.tar" busybox:latest >/dev/null
  for i in $(seq 1 "$N"); do $D create --network none --name "c$i" busybox sleep 1000 >/dev/null; done
  for i in 1 2 3; do $D start "c$i" >/dev/null; done
  set -- "$@" -n "docker curl" "curl -s -o /dev/null --unix-socket $WORK/docker.sock http://d/v1.41/containers/json?all=1" \
              -n "docker docker-ps" "$D ps -a"
else
  echo "(dockerd not installed: skipped)"
fi

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/api.json" "$@" >/dev/null
python3 - "$WORK/api.json" "$N" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for what in ("curl", "docker-ps"):
    label = "GET /containers/json?all=1 (curl)" if what == "curl" else "docker ps -a (docker CLI 28)"
    print(f"== {label}, {sys.argv[2]} containers")
    md = res[f"minidocker {what}"]["mean"]
    others = [res[k]["mean"] for k in res if k.endswith(what) and not k.startswith("minidocker")]
    for name, r in res.items():
        if not name.endswith(what):
            continue
        print(f"  {name.split()[0]:11s} mean {r['mean']*1000:8.2f} ms  median {r['median']*1000:8.2f} ms  "
              f"(minidocker/{name.split()[0]} = {md / r['mean']:.3f}x)")
    if others:
        print(f"  minidocker / the faster of the others = {md / min(others):.3f}x (goal <= 0.5x)")
PY

echo "== server RSS with $N containers (VmRSS, KiB; after the runs above)"
printf '  %-28s %s\n' "minidocker serve" "$(rss_kib "$MD_PID")"
if [ -n "$PODMAN_PID" ]; then printf '  %-28s %s\n' "podman system service" "$(rss_kib "$PODMAN_PID")"; fi
if [ -n "$DOCKERD_PID" ]; then
  total=$(rss_kib "$DOCKERD_PID")
  printf '  %-28s %s\n' dockerd "$total"
  for pid in $(pgrep -af "containerd.*$WORK" | grep -v shim | cut -d" " -f1); do
    r=$(rss_kib "$pid"); total=$((total + r)); printf '  %-28s %s\n' containerd "$r"
  done
  printf '  %-28s %s\n' "dockerd + containerd" "$total"
fi
