#!/bin/sh
# Engine start-path benchmark: `run --rm --network none busybox true` through
# minidocker, Podman (runc, cgroupfs) and Docker (Debian's docker.io dockerd on a
# private root), side by side in one hyperfine run, reported as ratios. Also reports
# the RSS of an idle container's monitor (minidocker-monitor vs conmon vs the
# containerd shim).
#
#   sudo sh bench/engine.sh [runs]
#
# Every engine gets the same busybox image (our rootfs tar, imported) and its own state
# under a private directory; everything is removed at the end. Podman and Docker are
# skipped with a note when they are not installed.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-50}
MD=$PWD/build/minidocker
WORK=$(mktemp -d /tmp/mdb-XXXXXX)
DOCKERD_PID=
cleanup() {
  set +e
  "$MD" --root "$WORK/md" rm -f md-idle >/dev/null 2>&1
  podman --root "$WORK/podman" --runroot "$WORK/podman-run" rm -f -a >/dev/null 2>&1
  if [ -n "$DOCKERD_PID" ]; then
    docker -H "unix://$WORK/docker.sock" rm -f dk-idle >/dev/null 2>&1
    kill "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null
  fi
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
sh scripts/build-busybox-rootfs.sh "$WORK/rootfs" >/dev/null
tar -C "$WORK/rootfs" --numeric-owner -cf "$WORK/busybox.tar" .
"$MD" --root "$WORK/md" import --change 'CMD ["sh"]' "$WORK/busybox.tar" busybox:latest >/dev/null

set -- -n minidocker "$MD --root $WORK/md run --rm --network none busybox true"
if command -v podman >/dev/null; then
  P="podman --root $WORK/podman --runroot $WORK/podman-run --runtime /usr/sbin/runc --cgroup-manager cgroupfs --events-backend file"
  $P import "$WORK/busybox.tar" localhost/busybox:latest >/dev/null
  # Podman sets nofile/nproc to 1048576 by default, which this host cannot grant (hard
  # limit 20000, no CAP_SYS_RESOURCE): give it limits it can set.
  PU="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
  set -- "$@" -n podman "$P run $PU --rm --network none localhost/busybox:latest true"
else
  echo "(podman not installed: skipped)"
fi
if command -v dockerd >/dev/null; then
  dockerd --data-root "$WORK/docker" --exec-root "$WORK/dx" -H "unix://$WORK/docker.sock" \
    --pidfile "$WORK/docker.pid" --iptables=false --ip6tables=false --bridge=none >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  D="docker -H unix://$WORK/docker.sock"
  for i in $(seq 1 100); do $D version >/dev/null 2>&1 && break; sleep 0.2; done
  $D import "$WORK/busybox.tar" busybox:latest >/dev/null
  set -- "$@" -n docker "$D run --rm --network none busybox true"
else
  echo "(dockerd not installed: skipped)"
fi
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/engine.json" "$@" >/dev/null
python3 - "$WORK/engine.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
md = res["minidocker"]["mean"]
print("== run --rm --network none busybox true")
for name, r in res.items():
    print(f"  {name:11s} mean {r['mean']*1000:8.2f} ms  median {r['median']*1000:8.2f} ms  "
          f"(minidocker/{name} = {md / r['mean']:.3f}x)")
PY
echo "== RSS of an idle container's monitor (VmRSS, KiB)"
"$MD" --root "$WORK/md" run -d --name md-idle busybox sleep 1000 >/dev/null
sleep 1
id=$("$MD" --root "$WORK/md" inspect -f '{{.Id}}' md-idle)
printf '  %-22s %s\n' minidocker-monitor "$(awk '/VmRSS/{print $2}' /proc/$(cat "$WORK/md/run/$id/monitor.pid")/status)"
if [ -n "${P:-}" ]; then
  $P run $PU -d --name pd-idle localhost/busybox:latest sleep 1000 >/dev/null
  sleep 1
  for pid in $(pgrep -f "conmon.*$WORK"); do printf '  %-22s %s\n' conmon "$(awk '/VmRSS/{print $2}' /proc/$pid/status)"; done
fi
if [ -n "$DOCKERD_PID" ]; then
  $D run -d --name dk-idle busybox sleep 1000 >/dev/null
  sleep 1
  for pid in $(pgrep -f "containerd-shim.*$WORK" | head -1); do printf '  %-22s %s\n' containerd-shim "$(awk '/VmRSS/{print $2}' /proc/$pid/status)"; done
fi
