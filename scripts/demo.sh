#!/bin/sh
# The main job: run a busybox container through minidocker-runtime and show, step by
# step, what the kernel was asked to do (--explain).
set -eu
cd "$(dirname "$0")/.."
RUNTIME=$PWD/build/minidocker-runtime
DEMO=$PWD/build/demo
sh scripts/build-busybox-rootfs.sh "$DEMO/rootfs" >/dev/null
rm -f "$DEMO/config.json"
"$RUNTIME" spec --bundle "$DEMO"
# Turn the default spec into a non-interactive demo.
python3 - "$DEMO/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c",
    "echo \"hello from $(hostname): I am pid $$, uid $(id -u)\"; "
    "echo 'processes I can see:'; ps; echo 'my root:'; ls /; "
    "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"]
json.dump(c, open(p, "w"), indent=2)
PY
echo "== minidocker-runtime --explain run demo-$$ (bundle $DEMO)"
cd "$DEMO"
set +e
"$RUNTIME" --root /run/minidocker-demo --explain run "demo-$$"
status=$?
set -e
left=$(find /sys/fs/cgroup -maxdepth 2 -name "minidocker-demo-$$" | wc -l)
echo
echo "== done: the container exited with status $status; cgroup dirs left: $left; state left: $(ls /run/minidocker-demo 2>/dev/null | grep -c "demo-$$")"
echo "   (lines starting with [explain] are the runtime's own steps, timed; the rest is the container's output)"
exit $status
