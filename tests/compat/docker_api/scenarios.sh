#!/bin/bash
# Real-client scenarios against a Docker Engine API endpoint: the docker CLI, python3-docker
# (the SDK) and docker-compose. Each scenario is a function sc_<name> that returns 0 when
# the client did what a Docker user expects, else prints why and returns 1.
#
#   DOCKER_HOST=unix:///path/api.sock scenarios.sh [NAME|~SUBSTRING…]    (--list: the names)
#
# The same scenarios run against minidocker (run.sh) and against a real dockerd
# (run.sh --dockerd), which is how the scenarios themselves are proved. The image
# "busybox:latest" (a plain busybox rootfs, no CMD) must exist on the endpoint.
# Everything a scenario creates is named with $P (unique per run) and removed by cleanup.
set -u

P="sc$$"
PY=/usr/bin/python3
TMP=/tmp/md-scen.$$
# Behaviour that needs the daemon's own networking (NAT, embedded DNS) is skipped when
# the endpoint runs without it (a dockerd started with --bridge=none --iptables=false).
NO_DAEMON_NET=${NO_DAEMON_NET:-0}

d() { timeout -k 5 60 docker "$@"; }
# Every failed check counts, also one that is not the scenario's last statement: the runner
# looks at FAILED as well as at the scenario's status.
FAILED=0
fail() { echo "    $*" >&2; FAILED=1; return 1; }
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got [$2], want [$3]"; }
expect_has() { case "$2" in *"$3"*) ;; *) fail "$1: [$2] does not contain [$3]";; esac; }
# Polls `cmd` up to 30 s until it prints `want` (for asynchronous state such as health).
eventually() {
  local want=$1; shift
  for _ in $(seq 1 60); do [ "$("$@" 2>/dev/null)" = "$want" ] && return 0; sleep 0.5; done
  fail "never became [$want]: $* → [$("$@" 2>&1)]"
}
py() { timeout -k 5 90 "$PY" -c "import docker, sys; c = docker.from_env(); $1"; }

# ------------------------------------------------------------------ system
sc_version() { local v; v=$(d version --format '{{.Server.APIVersion}}') || return 1; [ -n "$v" ] || fail "no server API version"; }
sc_info() { d info --format '{{.OSType}}' | grep -qx linux || fail "info OSType"; }
sc_system_df() { d system df >/dev/null || fail "system df"; d system df -v >/dev/null || fail "system df -v"; }

# ------------------------------------------------------------------ run
sc_run_foreground() { expect_eq output "$(d run --rm busybox echo hello)" hello; }
sc_run_exit_code() { d run --rm busybox sh -c 'exit 3'; expect_eq "exit code" $? 3; }
sc_run_stdin() { expect_eq cat "$(echo piped | d run --rm -i busybox cat)" piped; }
sc_run_tty() {
  local out; out=$(script -qec "timeout -k 5 60 docker run --rm -t busybox sh -c 'tty >/dev/null && echo is-a-tty'" /dev/null | tr -d '\r')
  expect_has "tty" "$out" is-a-tty
}
sc_run_detached() {
  d run -d --name "$P-det" busybox sleep 300 >/dev/null || return 1
  expect_eq state "$(d inspect -f '{{.State.Status}}' "$P-det")" running
  d ps --format '{{.Names}}' | grep -qx "$P-det" || fail "not in ps"
}
sc_run_rm_leaves_nothing() {
  d run --rm --name "$P-rm" busybox true || return 1
  [ -z "$(d ps -aq --filter name="^$P-rm\$")" ] || fail "container still listed"
}
sc_run_env_workdir_user() {
  expect_eq env "$(d run --rm -e FOO=bar busybox sh -c 'echo $FOO')" bar || return 1
  expect_eq workdir "$(d run --rm -w /tmp busybox pwd)" /tmp || return 1
  expect_eq user "$(d run --rm -u 1234:5678 busybox sh -c 'echo $(id -u):$(id -g)')" 1234:5678
}
sc_run_hostname_entrypoint() {
  expect_eq hostname "$(d run --rm --hostname box1 busybox hostname)" box1 || return 1
  expect_eq entrypoint "$(d run --rm --entrypoint /bin/echo busybox a b)" "a b"
}
sc_run_name_conflict() {
  d create --name "$P-dup" busybox true >/dev/null || return 1
  local err; err=$(d create --name "$P-dup" busybox true 2>&1); local rc=$?
  [ $rc -ne 0 ] || fail "second create succeeded"
  expect_has error "$err" "already in use"
}
sc_run_no_such_image() {
  local err; err=$(d run --rm --pull never "$P-nosuchimage" true 2>&1); local rc=$?
  expect_eq "exit code" $rc 125 || return 1
  expect_has error "$err" "No such image"
}
sc_run_bad_command() {
  d run --rm busybox /no/such/binary 2>/dev/null; local rc=$?
  expect_eq "exit code" $rc 127
}
sc_run_limits() {
  d run -d --name "$P-lim" --memory 64m --cpus 0.5 --pids-limit 50 busybox sleep 300 >/dev/null || return 1
  expect_eq memory "$(d inspect -f '{{.HostConfig.Memory}}' "$P-lim")" 67108864 || return 1
  expect_eq nanocpus "$(d inspect -f '{{.HostConfig.NanoCpus}}' "$P-lim")" 500000000 || return 1
  expect_eq pids "$(d inspect -f '{{.HostConfig.PidsLimit}}' "$P-lim")" 50
}
sc_run_read_only() {
  local err; err=$(d run --rm --read-only busybox touch /x 2>&1) && fail "wrote to a read-only rootfs"
  expect_has error "$err" "Read-only file system"
}
sc_run_labels() {
  d run -d --name "$P-lab" -l tier=web -l team=a busybox sleep 300 >/dev/null || return 1
  expect_eq label "$(d inspect -f '{{index .Config.Labels "tier"}}' "$P-lab")" web || return 1
  expect_eq filter "$(d ps --filter label=tier=web --filter name="$P-lab" --format '{{.Names}}')" "$P-lab"
}
sc_run_restart_policy() {
  d run -d --name "$P-rp" --restart on-failure:2 busybox sh -c 'exit 1' >/dev/null || return 1
  expect_eq policy "$(d inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' "$P-rp")" on-failure:2 || return 1
  eventually exited d inspect -f '{{.State.Status}}' "$P-rp" || return 1
  eventually 2 d inspect -f '{{.RestartCount}}' "$P-rp"
}
sc_run_healthcheck() {
  d run -d --name "$P-hc" --health-cmd 'true' --health-interval 1s busybox sleep 300 >/dev/null || return 1
  eventually healthy d inspect -f '{{.State.Health.Status}}' "$P-hc"
}

sc_run_mounts_tmpfs() {
  expect_has mount "$(d run --rm --mount type=tmpfs,destination=/t --tmpfs /t2 busybox sh -c 'grep -E " /t2? " /proc/mounts')" "tmpfs /t2" || return 1
  expect_has mount "$(d run --rm --mount type=tmpfs,destination=/t busybox grep ' /t ' /proc/mounts)" "tmpfs /t"
}
sc_run_capabilities() {
  expect_eq "cap-drop ALL" "$(d run --rm --cap-drop ALL busybox grep CapEff /proc/self/status | awk '{print $2}')" 0000000000000000 || return 1
  # CAP_NET_ADMIN is bit 12: 0x1000
  local eff; eff=$(d run --rm --cap-drop ALL --cap-add NET_ADMIN busybox grep CapEff /proc/self/status | awk '{print $2}')
  expect_eq "cap-add NET_ADMIN" "$eff" 0000000000001000
}
sc_run_network_none() { expect_eq links "$(d run --rm --network none busybox ls /sys/class/net | tr '\n' ' ')" "lo "; }
sc_inspect_other_objects() {
  d volume create "$P-iv" >/dev/null && d network create "$P-in" >/dev/null || return 1
  expect_eq volume "$(d inspect -f '{{.Name}}' "$P-iv")" "$P-iv" || return 1
  expect_eq network "$(d inspect -f '{{.Name}}' "$P-in")" "$P-in" || return 1
  expect_eq image "$(d inspect -f '{{.Os}}' busybox)" linux
}
sc_ps_size_and_system_prune() {
  d run --name "$P-sz" busybox sh -c 'echo x > /f' >/dev/null || return 1
  d ps -as --filter name="$P-sz" --format '{{.Size}}' | grep -q B || fail "no size column"
  expect_eq "inspect --size" "$(d inspect --size -f '{{.SizeRw}}' "$P-sz")" 2 || return 1
  d system prune -f >/dev/null || { fail "system prune"; return 1; }
  [ -z "$(d ps -aq --filter name="^$P-sz\$")" ] || fail "stopped container survived system prune"
}

# ------------------------------------------------------------------ lifecycle
sc_create_start_inspect() {
  local id; id=$(d create --name "$P-cs" busybox sleep 300) || return 1
  expect_eq created "$(d inspect -f '{{.State.Status}}' "$P-cs")" created || return 1
  d start "$P-cs" >/dev/null || return 1
  expect_eq running "$(d inspect -f '{{.State.Running}}' "$P-cs")" true || return 1
  expect_eq name "$(d inspect -f '{{.Name}}' "$P-cs")" "/$P-cs" || return 1
  expect_eq image "$(d inspect -f '{{.Config.Image}}' "$P-cs")" busybox || return 1
  expect_eq id "$(d inspect -f '{{.Id}}' "$P-cs")" "$id"
}
sc_start_attach() { d create --name "$P-sa" busybox echo attached >/dev/null || return 1; expect_eq out "$(d start -a "$P-sa")" attached; }
sc_attach() {
  d run -d --name "$P-at" busybox sh -c 'sleep 1; echo from-attach' >/dev/null || return 1
  expect_has out "$(d attach "$P-at")" from-attach
}
sc_stop() {
  d run -d --name "$P-st" busybox sleep 300 >/dev/null || return 1
  d stop -t 1 "$P-st" >/dev/null || return 1
  expect_eq status "$(d inspect -f '{{.State.Status}}' "$P-st")" exited || return 1
  expect_has ps "$(d ps -a --filter name="$P-st" --format '{{.Status}}')" "Exited (137)"
}
sc_restart() {
  d run -d --name "$P-re" busybox sleep 300 >/dev/null || return 1
  local p1; p1=$(d inspect -f '{{.State.Pid}}' "$P-re")
  d restart -t 1 "$P-re" >/dev/null || return 1
  local p2; p2=$(d inspect -f '{{.State.Pid}}' "$P-re")
  expect_eq running "$(d inspect -f '{{.State.Running}}' "$P-re")" true || return 1
  [ "$p1" != "$p2" ] || fail "same pid after restart"
}
sc_kill_signal() {
  d run -d --name "$P-k" busybox sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done' >/dev/null || return 1
  d kill -s USR1 "$P-k" >/dev/null || return 1
  expect_eq code "$(d wait "$P-k")" 42
}
sc_pause_unpause() {
  d run -d --name "$P-pa" busybox sleep 300 >/dev/null || return 1
  d pause "$P-pa" >/dev/null || return 1
  expect_eq paused "$(d inspect -f '{{.State.Status}}' "$P-pa")" paused || return 1
  d unpause "$P-pa" >/dev/null || return 1
  expect_eq running "$(d inspect -f '{{.State.Status}}' "$P-pa")" running
}
sc_rm_running_refused_then_forced() {
  d run -d --name "$P-rmf" busybox sleep 300 >/dev/null || return 1
  d rm "$P-rmf" >/dev/null 2>&1 && fail "rm of a running container succeeded"
  d rm -f "$P-rmf" >/dev/null || return 1
  [ -z "$(d ps -aq --filter name="^$P-rmf\$")" ] || fail "still listed"
}
sc_wait() { d run -d --name "$P-w" busybox sh -c 'sleep 1; exit 7' >/dev/null || return 1; expect_eq code "$(d wait "$P-w")" 7; }
sc_rename() {
  d create --name "$P-rn1" busybox true >/dev/null || return 1
  d rename "$P-rn1" "$P-rn2" || return 1
  expect_eq name "$(d inspect -f '{{.Name}}' "$P-rn2")" "/$P-rn2"
}
sc_update() {
  d run -d --name "$P-up" busybox sleep 300 >/dev/null || return 1
  d update --memory 96m --memory-swap 192m "$P-up" >/dev/null || return 1
  expect_eq memory "$(d inspect -f '{{.HostConfig.Memory}}' "$P-up")" 100663296
}
sc_container_prune() {
  d create --name "$P-pr" --label "$P=prune" busybox true >/dev/null || return 1
  d container prune -f --filter "label=$P=prune" >/dev/null || return 1
  [ -z "$(d ps -aq --filter name="^$P-pr\$")" ] || fail "not pruned"
}

# ------------------------------------------------------------------ logs, exec, inspection
sc_logs() {
  d run --name "$P-lg" busybox sh -c 'echo one; echo two >&2; sleep 0.2; echo three' >/dev/null 2>&1
  expect_eq all "$(d logs "$P-lg" 2>&1 | sort | tr '\n' ' ')" "one three two " || return 1
  expect_eq tail "$(d logs --tail 1 "$P-lg" 2>/dev/null)" three || return 1
  expect_eq stderr "$(d logs "$P-lg" 2>&1 >/dev/null)" two || return 1
  d logs -t "$P-lg" 2>/dev/null | head -1 | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' || fail "no timestamps"
}
sc_logs_follow() {
  d run -d --name "$P-lf" busybox sh -c 'for i in 1 2 3; do echo line$i; sleep 0.3; done' >/dev/null || return 1
  expect_eq follow "$(d logs -f "$P-lf" | tr '\n' ' ')" "line1 line2 line3 "
}
sc_exec() {
  d run -d --name "$P-ex" busybox sleep 300 >/dev/null || return 1
  expect_eq echo "$(d exec "$P-ex" echo hi)" hi || return 1
  d exec "$P-ex" sh -c 'exit 5'; expect_eq "exit code" $? 5 || return 1
  expect_eq stdin "$(echo in | d exec -i "$P-ex" cat)" in || return 1
  expect_eq env-workdir-user "$(d exec -e A=1 -w /tmp -u 99 "$P-ex" sh -c 'echo $A $(pwd) $(id -u)')" "1 /tmp 99"
}
sc_exec_tty() {
  d run -d --name "$P-ext" busybox sleep 300 >/dev/null || return 1
  local out; out=$(script -qec "timeout -k 5 60 docker exec -t $P-ext sh -c 'tty >/dev/null && echo exec-tty'" /dev/null | tr -d '\r')
  expect_has tty "$out" exec-tty
}
sc_top() { d run -d --name "$P-top" busybox sleep 300 >/dev/null || return 1; expect_has top "$(d top "$P-top")" "sleep 300"; }
sc_stats() {
  d run -d --name "$P-sts" busybox sleep 300 >/dev/null || return 1
  expect_has stats "$(d stats --no-stream --format '{{.Name}} {{.MemUsage}}' "$P-sts")" "$P-sts"
}
sc_diff() {
  d run --name "$P-df" busybox sh -c 'echo x > /newfile' >/dev/null || return 1
  expect_has diff "$(d diff "$P-df")" "A /newfile"
}
sc_cp() {
  d run -d --name "$P-cp" busybox sleep 300 >/dev/null || return 1
  echo payload > "$TMP/in.txt"
  d cp "$TMP/in.txt" "$P-cp:/tmp/in.txt" || return 1
  expect_eq inside "$(d exec "$P-cp" cat /tmp/in.txt)" payload || return 1
  d cp "$P-cp:/etc/hostname" "$TMP/out" || return 1
  [ -s "$TMP/out" ] || fail "copied file is empty"
}
sc_export() {
  d create --name "$P-exp" busybox true >/dev/null || return 1
  d export "$P-exp" | tar -t 2>/dev/null | grep -qE '^(\./)?bin/busybox$' || fail "bin/busybox not in the export"
}
sc_port() {
  [ "$NO_DAEMON_NET" = 1 ] && return 0
  d run -d --name "$P-port" -p 127.0.0.1::80 busybox sleep 300 >/dev/null || return 1
  expect_has port "$(d port "$P-port" 80)" "127.0.0.1:"
}
sc_port_http() {
  [ "$NO_DAEMON_NET" = 1 ] && return 0
  d run -d --name "$P-http" -p 127.0.0.1::80 busybox sh -c 'mkdir /w && echo port-ok > /w/index.html && httpd -f -p 80 -h /w' >/dev/null || return 1
  local hp; hp=$(d port "$P-http" 80/tcp | head -1) || return 1
  local out=""
  for _ in $(seq 1 40); do out=$(curl -s --max-time 2 "http://$hp/") && [ -n "$out" ] && break; sleep 0.25; done
  expect_eq http "$out" port-ok
}
sc_ps_filters_format() {
  d create --name "$P-psf" busybox true >/dev/null || return 1
  expect_eq status "$(d ps -a --filter status=created --filter name="$P-psf" --format '{{.Names}}|{{.Status}}')" "$P-psf|Created" || return 1
  expect_eq quiet "$(d ps -aq --filter name="$P-psf" | wc -l)" 1
}
sc_events() {
  local since; since=$(date +%s)
  d run --rm --name "$P-ev" busybox true >/dev/null || return 1
  local out; out=$(d events --since "$since" --until "$(( $(date +%s) + 1 ))" --filter container="$P-ev" --format '{{.Action}}')
  expect_has events "$out" start || return 1
  expect_has events "$out" die
}

# ------------------------------------------------------------------ images
sc_images_list_inspect() {
  d images --format '{{.Repository}}:{{.Tag}}' | grep -qx busybox:latest || fail "busybox not listed"
  expect_eq os "$(d image inspect -f '{{.Os}}' busybox)" linux
}
sc_tag_rmi() {
  d tag busybox "$P-img:v1" || return 1
  d images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$P-img:v1" || fail "tag not listed"
  expect_has rmi "$(d rmi "$P-img:v1")" "Untagged: $P-img:v1"
}
sc_history() { d history busybox >/dev/null || fail "history"; }
sc_save_load() {
  d tag busybox "$P-sv:1" || return 1
  d save -o "$TMP/img.tar" "$P-sv:1" || return 1
  d rmi "$P-sv:1" >/dev/null || return 1
  expect_has load "$(d load -i "$TMP/img.tar")" "$P-sv:1"
}
sc_import() {
  mkdir -p "$TMP/rootfs" && echo imported > "$TMP/rootfs/marker"
  tar -C "$TMP/rootfs" -c . | d import - "$P-imp:1" >/dev/null || return 1
  d images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$P-imp:1" || fail "import not listed"
}
sc_commit() {
  d run --name "$P-cm" busybox sh -c 'echo committed > /c.txt' >/dev/null || return 1
  d commit "$P-cm" "$P-cmimg:1" >/dev/null || return 1
  expect_eq content "$(d run --rm "$P-cmimg:1" cat /c.txt)" committed
}
sc_image_rm_in_use() {
  d tag busybox "$P-use:1" || return 1
  d create --name "$P-use" "$P-use:1" true >/dev/null || return 1
  local id; id=$(d image inspect -f '{{.Id}}' "$P-use:1")
  local err; err=$(d rmi "$id" 2>&1) && fail "removed an image in use by id"
  expect_has error "$err" "conflict"
}

# ------------------------------------------------------------------ networks and volumes
sc_network_crud() {
  d network create --label "$P=1" "$P-net" >/dev/null || return 1
  d network ls --format '{{.Name}}' | grep -qx "$P-net" || fail "not listed"
  expect_eq driver "$(d network inspect -f '{{.Driver}}' "$P-net")" bridge || return 1
  d network rm "$P-net" >/dev/null || return 1
}
sc_network_dns() {
  [ "$NO_DAEMON_NET" = 1 ] && return 0
  d network create "$P-dns" >/dev/null || return 1
  d run -d --name "$P-srv" --network "$P-dns" --network-alias web busybox sleep 300 >/dev/null || return 1
  d run --rm --network "$P-dns" busybox ping -c1 -W2 "$P-srv" >/dev/null || fail "name did not resolve"
  d run --rm --network "$P-dns" busybox ping -c1 -W2 web >/dev/null || fail "alias did not resolve"
}
sc_network_connect() {
  d network create "$P-cn" >/dev/null || return 1
  d run -d --name "$P-cnc" busybox sleep 300 >/dev/null || return 1
  d network connect "$P-cn" "$P-cnc" || return 1
  expect_has networks "$(d inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$P-cnc")" "$P-cn" || return 1
  d network disconnect "$P-cn" "$P-cnc" || return 1
}
sc_volume_crud() {
  d volume create --label "$P=1" "$P-vol" >/dev/null || return 1
  d volume ls -q | grep -qx "$P-vol" || fail "not listed"
  expect_eq driver "$(d volume inspect -f '{{.Driver}}' "$P-vol")" local || return 1
  d volume rm "$P-vol" >/dev/null
}
sc_volume_persists() {
  d run --rm -v "$P-data:/data" busybox sh -c 'echo kept > /data/f' || return 1
  expect_eq kept "$(d run --rm -v "$P-data:/data" busybox cat /data/f)" kept
}
sc_bind_mount() {
  mkdir -p "$TMP/bind" && echo host > "$TMP/bind/f"
  expect_eq bind "$(d run --rm -v "$TMP/bind:/b:ro" busybox cat /b/f)" host || return 1
  local err; err=$(d run --rm -v "$TMP/bind:/b:ro" busybox touch /b/g 2>&1) && fail "wrote to a :ro bind"
  expect_has error "$err" "Read-only file system"
}

# ------------------------------------------------------------------ the SDK
sc_sdk_run_and_logs() {
  py "out = c.containers.run('busybox', 'echo sdk', remove=True); assert out == b'sdk\n', out" || fail "run"
}
sc_sdk_lifecycle() {
  py "
x = c.containers.run('busybox', 'sleep 300', detach=True, name='$P-sdk', labels={'k':'v'}, environment={'E':'1'})
x.reload(); assert x.status == 'running', x.status
assert [y.name for y in c.containers.list(filters={'label':'k=v','name':'$P-sdk'})] == ['$P-sdk']
x.pause(); x.reload(); assert x.status == 'paused'
x.unpause(); x.stop(timeout=1); x.reload(); assert x.status == 'exited', x.status
assert x.wait()['StatusCode'] in (137, 143)
x.remove()
" || fail "lifecycle"
}
sc_sdk_exec_run() {
  d run -d --name "$P-sdkx" busybox sleep 300 >/dev/null || return 1
  py "r = c.containers.get('$P-sdkx').exec_run('sh -c \"echo out; exit 4\"'); assert r.exit_code == 4 and r.output == b'out\n', r" || fail "exec_run"
}
sc_sdk_stats_top() {
  d run -d --name "$P-sdks" busybox sleep 300 >/dev/null || return 1
  py "x = c.containers.get('$P-sdks'); s = x.stats(stream=False); assert 'memory_stats' in s and 'cpu_stats' in s, s.keys(); t = x.top(); assert any('sleep' in ' '.join(p) for p in t['Processes']), t" || fail "stats/top"
}
sc_sdk_archive() {
  d run -d --name "$P-sdka" busybox sleep 300 >/dev/null || return 1
  py "
import io, tarfile
x = c.containers.get('$P-sdka')
buf = io.BytesIO(); t = tarfile.open(fileobj=buf, mode='w'); data = b'archived'
i = tarfile.TarInfo('a.txt'); i.size = len(data); t.addfile(i, io.BytesIO(data)); t.close()
assert x.put_archive('/tmp', buf.getvalue())
bits, stat = x.get_archive('/tmp/a.txt')
raw = b''.join(bits); f = tarfile.open(fileobj=io.BytesIO(raw)).extractfile('a.txt').read()
assert f == data and stat['size'] == len(data), (f, stat)
" || fail "archive"
}
sc_sdk_images() {
  py "
i = c.images.get('busybox'); assert i.tags, i.tags
i.tag('$P-sdkimg', 'x'); assert 'sdkimg' in str(c.images.get('$P-sdkimg:x').tags)
c.images.remove('$P-sdkimg:x')
assert any('busybox:latest' in j.tags for j in c.images.list())
" || fail "images"
}
sc_sdk_networks_volumes() {
  py "
n = c.networks.create('$P-sdkn', labels={'a':'b'}); assert c.networks.get('$P-sdkn').attrs['Labels'] == {'a':'b'}
v = c.volumes.create('$P-sdkv'); assert c.volumes.get('$P-sdkv').name == '$P-sdkv'
x = c.containers.run('busybox', 'sleep 300', detach=True, name='$P-sdknc', network='$P-sdkn', volumes={'$P-sdkv': {'bind': '/v', 'mode': 'rw'}})
x.reload(); assert '$P-sdkn' in x.attrs['NetworkSettings']['Networks']
x.remove(force=True); n.remove(); v.remove()
" || fail "networks/volumes"
}
sc_sdk_events() {
  py "
import time, threading
since = int(time.time())
c.containers.run('busybox', 'true', remove=True, name='$P-sdke')
ev = c.events(decode=True, since=since, until=int(time.time()) + 1, filters={'container': '$P-sdke'})
acts = [e.get('Action') for e in ev]; assert 'start' in acts and 'die' in acts, acts
" || fail "events"
}

# ------------------------------------------------------------------ compose
compose_file() {
  mkdir -p "$TMP/compose"
  cat > "$TMP/compose/docker-compose.yml" <<EOF
version: "3"
services:
  web:
    image: busybox
    command: sh -c "mkdir -p /www && echo compose-ok > /www/index.html && httpd -f -p 80 -h /www"
    labels:
      role: web
    volumes:
      - data:/data
    environment:
      GREETING: hello
  client:
    image: busybox
    command: sleep 300
    depends_on:
      - web
volumes:
  data: {}
EOF
}
sc_compose_up_down() {
  [ -x /usr/bin/docker-compose ] || { fail "docker-compose is not installed (scripts/setup.sh)"; return 1; }
  compose_file
  local dc="timeout -k 5 120 /usr/bin/docker-compose -p $P -f $TMP/compose/docker-compose.yml"
  $dc up -d >/dev/null 2>&1 || { $dc up -d; fail "compose up"; return 1; }
  expect_eq ps "$($dc ps -q | wc -l)" 2 || return 1
  expect_eq env "$($dc exec -T web sh -c 'echo $GREETING')" hello || return 1
  if [ "$NO_DAEMON_NET" != 1 ]; then
    expect_eq fetch "$($dc exec -T client wget -qO- http://web/)" compose-ok || return 1
  fi
  $dc logs web >/dev/null 2>&1 || fail "compose logs"
  $dc down -v >/dev/null 2>&1 || fail "compose down"
  [ -z "$(d ps -aq --filter label=com.docker.compose.project="$P")" ] || fail "containers left after down"
  d network ls --format '{{.Name}}' | grep -q "^${P}_default\$" && fail "network left after down"
  return 0
}
sc_compose_run() {
  [ -x /usr/bin/docker-compose ] || { fail "docker-compose is not installed (scripts/setup.sh)"; return 1; }
  compose_file
  expect_eq run "$(timeout -k 5 120 /usr/bin/docker-compose -p "$P" -f "$TMP/compose/docker-compose.yml" run --rm --no-deps -T client echo from-run 2>/dev/null)" from-run
  timeout -k 5 120 /usr/bin/docker-compose -p "$P" -f "$TMP/compose/docker-compose.yml" down -v >/dev/null 2>&1
  return 0
}

# ------------------------------------------------------------------ bad input
sc_api_errors() {
  local sock=${DOCKER_HOST#unix://}
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" http://x/containers/$P-none/json); expect_eq "404 for a missing container" "$code" 404 || return 1
  # dockerd 20.10 answers 500 here, current Docker 400 (run.sh --dockerd sets BAD_JSON_STATUS).
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -X POST -H 'Content-Type: application/json' -d '{bad json' http://x/containers/create); expect_eq "status for bad JSON" "$code" "${BAD_JSON_STATUS:-400}" || return 1
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" http://x/nope/nothing); expect_eq "404 for an unknown path" "$code" 404
}

cleanup() {
  local ids
  ids=$(docker ps -aq --filter name="$P" 2>/dev/null); [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
  ids=$(docker ps -aq --filter label=com.docker.compose.project="$P" 2>/dev/null); [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
  for n in $(docker network ls --format '{{.Name}}' 2>/dev/null | grep "^$P"); do docker network rm "$n" >/dev/null 2>&1; done
  for v in $(docker volume ls -q 2>/dev/null | grep "^$P"); do docker volume rm -f "$v" >/dev/null 2>&1; done
  for i in $(docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep "^$P"); do docker rmi -f "$i" >/dev/null 2>&1; done
  rm -rf "$TMP"
}

main() {
  if [ "${1:-}" = --list ]; then declare -F | awk '{print $3}' | grep '^sc_' | sed 's/^sc_//'; exit 0; fi
  : "${DOCKER_HOST:?set DOCKER_HOST=unix:///path/to/api.sock}"
  export DOCKER_HOST
  mkdir -p "$TMP"
  trap cleanup EXIT
  local pass=0 failed=() name
  for name in $(declare -F | awk '{print $3}' | grep '^sc_'); do
    if [ $# -gt 0 ]; then
      local hit=0 f
      for f in "$@"; do
        case "$f" in
          "~"*) case "$name" in *"${f#\~}"*) hit=1;; esac;;
          *) [ "$name" = "sc_$f" ] && hit=1;;
        esac
      done
      [ $hit = 1 ] || continue
    fi
    FAILED=0
    if "$name" </dev/null && [ "$FAILED" = 0 ]; then echo "PASS ${name#sc_}"; pass=$((pass + 1))
    else echo "FAIL ${name#sc_}"; failed+=("${name#sc_}"); fi
  done
  echo "scenarios: $pass passed, ${#failed[@]} failed${failed[*]:+: ${failed[*]}}"
  [ ${#failed[@]} -eq 0 ]
}
main "$@"
