#!/bin/sh
# The main job: make the built-in busybox image (offline, from Debian's busybox-static)
# and run a container from it with `minidocker run`, showing every engine and kernel
# step it takes (--explain); then start the API server with the dashboard on
# http://127.0.0.1:5000 in the background (docs/dashboard.md).
#
#   sh scripts/demo.sh          the container, then the dashboard
#   sh scripts/demo.sh stop     stops the dashboard's server
set -eu
cd "$(dirname "$0")/.."
MD=$PWD/build/minidocker
WEB=${MD_WEB:-127.0.0.1:5000}
PIDFILE=/run/minidocker/dashboard.pid
LOG=/run/minidocker/dashboard.log

if [ "${1:-}" = stop ]; then
  if [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "dashboard server stopped"
  else
    echo "no dashboard server running"
  fi
  rm -f "$PIDFILE"
  exit 0
fi
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

# The dashboard: `minidocker serve` on the default socket and on $WEB, left running.
echo
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "== the dashboard is already running: http://$WEB/ (pid $(cat "$PIDFILE"))"
else
  mkdir -p /run/minidocker
  setsid "$MD" serve --web "$WEB" > "$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  ok=0
  for _ in $(seq 1 50); do
    if curl -fsS "http://$WEB/api/health" > /dev/null 2>&1; then ok=1; break; fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.1
  done
  if [ $ok = 1 ]; then
    echo "== dashboard: http://$WEB/   Docker API: DOCKER_HOST=unix:///run/minidocker/minidocker.sock docker ps"
    echo "   (server pid $(cat "$PIDFILE"), log $LOG; stop it with: sh scripts/demo.sh stop)"
  else
    echo "== the dashboard server did not start:" >&2
    cat "$LOG" >&2
    rm -f "$PIDFILE"
    exit 1
  fi
fi
exit $status
