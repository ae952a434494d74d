#!/bin/sh
# Runtime start-path benchmark: `RUNTIME run` of a busybox /bin/true bundle
# (create + start + wait + delete), minidocker-runtime vs crun vs runc, side by side
# in one hyperfine run, reported as ratios. Also prints binary sizes and peak RSS.
#
#   sudo sh bench/runtime.sh [runs]
#
# crun 1.8 refuses this host's hybrid cgroup layout, so the comparison runs inside a
# private mount namespace where /sys/fs/cgroup/unified is unmounted: every runtime
# sees the same pure-v1 layout. A second table compares minidocker-runtime and runc
# on the real hybrid layout.
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-100}
MD=$PWD/build/minidocker-runtime
WORK=$(mktemp -d /tmp/md-bench-XXXXXX)
# State roots on tmpfs, where runtimes keep them in real use (runc: /run/runc).
STATE=$(mktemp -d /run/md-bench-XXXXXX)
trap 'rm -rf "$WORK" "$STATE"' EXIT
sh scripts/build-busybox-rootfs.sh "$WORK/bundle/rootfs" >/dev/null
(cd "$WORK/bundle" && runc spec)
python3 - "$WORK/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"), indent=1)
PY
cd "$WORK/bundle"
export MD RUNS WORK STATE
unshare -m sh -c '
  umount /sys/fs/cgroup/unified
  hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$WORK/v1.json" \
    -n minidocker "$MD --root $STATE/s-md run b-md" \
    -n crun "crun --root $STATE/s-crun run b-crun" \
    -n runc "runc --root $STATE/s-runc run b-runc" >/dev/null
'
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$WORK/hybrid.json" \
  -n minidocker "$MD --root $STATE/s-md run b-md" \
  -n runc "runc --root $STATE/s-runc run b-runc" >/dev/null
python3 - "$WORK/v1.json" "$WORK/hybrid.json" <<'PY'
import json, sys
for path, title in zip(sys.argv[1:], ["pure v1 layout (cgroup2 hidden; crun can run)", "hybrid layout (this host as it is)"]):
    res = {r["command"]: r for r in json.load(open(path))["results"]}
    md = res["minidocker"]["mean"]
    print(f"== run /bin/true, {title}")
    for name, r in res.items():
        print(f"  {name:11s} mean {r['mean']*1000:7.2f} ms  median {r['median']*1000:7.2f} ms  "
              f"(minidocker/{name} = {md / r['mean']:.2f}x)")
PY
echo "== binary size"
ls -l "$MD" /usr/bin/crun /usr/sbin/runc 2>/dev/null | awk '{printf "  %-40s %8.2f MiB\n", $9, $5/1048576}'
echo "== peak RSS of one run (KiB, /usr/bin/time -f %M)"
for r in "$MD" runc; do
  printf '  %-40s ' "$r"
  /usr/bin/time -f %M "$r" --root "$STATE/s-rss" run b-rss 2>&1 >/dev/null | tail -1
done
