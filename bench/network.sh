#!/bin/sh
# Networking benchmarks (issue 4), side by side in one run, reported as ratios:
#
#  1. TCP throughput from the host into a container: iperf3 through a published port
#     (-p, nftables DNAT on 127.0.0.1 and on the host's own address) against the same
#     transfer straight to the container's address over the bridge and veth. The iperf3
#     server runs inside the container's network namespace (nsenter -n: the container's
#     data path, the host's iperf3 binary, since the busybox image has none).
#  2. `run --rm busybox true` on the default bridge network: minidocker, Podman
#     (netavark bridge) and Docker (private dockerd, docker0), and minidocker with
#     --network none for the cost of the network itself.
#
#   sudo sh bench/network.sh [runs] [seconds per iperf3 transfer]
#
# Everything lives under a private directory with its own bridge, subnet and nftables
# table, and is removed at the end (links, tables, dockerd, podman state).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-30}
SECS=${2:-5}
MD=$PWD/build/minidocker
WORK=$(mktemp -d /tmp/mdn-XXXXXX)
DOCKERD_PID=
HAD_DOCKER0=$(ip link show docker0 >/dev/null 2>&1 && echo 1 || echo 0)
M="$MD --root $WORK/md"
cleanup() {
  set +e
  $M rm -f md-iperf >/dev/null 2>&1
  podman --root "$WORK/podman" --runroot "$WORK/podman-run" rm -f -a >/dev/null 2>&1
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null
    [ "$HAD_DOCKER0" = 0 ] && ip link del docker0 2>/dev/null
  fi
  ip link del mdbench0 2>/dev/null
  for t in $(nft list tables 2>/dev/null | awk '/minidocker_/ {print $3}'); do
    nft list table ip "$t" 2>/dev/null | grep -q mdbench0 && nft delete table ip "$t"
  done
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/md"
echo '{"bridge": "mdbench0", "bip": "10.203.0.1/24", "default-address-pools": [{"base": "10.204.0.0/16", "size": 24}]}' \
  >"$WORK/md/daemon.json"
sh scripts/build-busybox-rootfs.sh "$WORK/rootfs" >/dev/null
tar -C "$WORK/rootfs" --numeric-owner -cf "$WORK/busybox.tar" .
$M import --change 'CMD ["sh"]' "$WORK/busybox.tar" busybox:latest >/dev/null

# ---- 1. throughput
HOST_IP=$(ip -4 -o route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
$M run -d --name md-iperf -p 5201:5201 busybox sleep 100000 >/dev/null
PID=$($M inspect -f '{{.State.Pid}}' md-iperf)
CIP=$($M inspect -f '{{.NetworkSettings.IPAddress}}' md-iperf)
nsenter -t "$PID" -n iperf3 -s -D -p 5201 >/dev/null
sleep 0.3
gbps() { iperf3 -c "$1" -p 5201 -t "$SECS" -J | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'; }
direct=$(gbps "$CIP")
local_pub=$(gbps 127.0.0.1)
host_pub=""
[ -n "$HOST_IP" ] && host_pub=$(gbps "$HOST_IP")
python3 - "$direct" "$local_pub" "$host_pub" "$CIP" "$HOST_IP" <<'PY'
import sys
d, l, h, cip, hip = sys.argv[1:]
d = float(d)
print("TCP throughput host -> container (iperf3, one stream)")
print(f"  straight to {cip} (bridge + veth)     {d:7.2f} Gbit/s")
print(f"  published 127.0.0.1:5201 (DNAT)      {float(l):7.2f} Gbit/s  -> {float(l)/d:.2f}x")
if h:
    print(f"  published {hip}:5201 (DNAT)    {float(h):7.2f} Gbit/s  -> {float(h)/d:.2f}x")
PY
pkill -f "iperf3 -s -D -p 5201" 2>/dev/null || true
$M rm -f md-iperf >/dev/null

# ---- 2. run --rm on the default bridge
set -- -n minidocker "$M run --rm busybox true" -n "minidocker (--network none)" "$M run --rm --network none busybox true"
if command -v podman >/dev/null; then
  P="podman --root $WORK/podman --runroot $WORK/podman-run --runtime /usr/sbin/runc --cgroup-manager cgroupfs --events-backend file"
  $P import "$WORK/busybox.tar" localhost/busybox:latest >/dev/null
  PU="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
  set -- "$@" -n podman "$P run $PU --rm localhost/busybox:latest true"
fi
if command -v dockerd >/dev/null; then
  dockerd --data-root "$WORK/docker" --exec-root "$WORK/dx" -H "unix://$WORK/docker.sock" \
    --pidfile "$WORK/docker.pid" --iptables=false --ip6tables=false >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  D="docker -H unix://$WORK/docker.sock"
  for i in $(seq 1 100); do $D version >/dev/null 2>&1 && break; sleep 0.2; done
  $D import "$WORK/busybox.tar" busybox:latest >/dev/null
  set -- "$@" -n docker "$D run --rm busybox true"
fi
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/run.json" "$@" >/dev/null
python3 - "$WORK/run.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
md = res["minidocker"]["mean"]
print("run --rm busybox true, default bridge network (hyperfine mean ± stddev)")
for name, r in res.items():
    print(f"  {name:28s} {r['mean']*1000:7.1f} ms ± {r['stddev']*1000:4.1f}" +
          ("" if name.startswith("minidocker") else f"   minidocker/{name} = {md/r['mean']:.2f}x"))
PY
