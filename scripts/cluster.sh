#!/usr/bin/env bash
# faasctl multi-node test cluster: a 1-manager + 2-worker Docker Swarm on this one machine, for
# `npm run test:cluster`. Runs as root (Linux, cgroup v1 with the freezer controller).
#
# Each node is an extra dockerd (and the containerd it supervises) in its own network, mount and
# UTS namespace (hostname fcl-n<i>, eth0 = <net>.1<i>/24), its own freezer cgroup and its own
# data-root, exec-root and socket under $STATE/n<i>. The nodes hang off a bridge in a "switch"
# netns fcl-sw; the host reaches them through the veth fcl-host (<net>.1/24). The nodes have no
# default route: no traffic leaves <net>.0/24. The host's own dockerd (the single-node test bed)
# is only read from (`docker save` of images), and the host firewall is never touched.
#
# A private registry (Debian's docker-registry, plain HTTP) listens on <net>.1:5000; every node
# trusts it (--insecure-registry). faasctl builds its runtime image on the manager and pushes it
# there; the workers pull it by digest. Only the manager gets the base image at `up`.
#
#   scripts/cluster.sh up             idempotent: quick when all 3 nodes are Ready and the
#                                     registry answers; otherwise starts what is missing
#   scripts/cluster.sh down [--purge] daemons, netns, cgroups, registry process and $STATE removed;
#                                     --purge also removes the caches (golden data-root, registry
#                                     storage) under /var/lib/faasctl-testbed
#   scripts/cluster.sh status         one line per part; exits 1 when something is missing
#   scripts/cluster.sh env            export lines: DOCKER_HOST (the manager), the registry
#   scripts/cluster.sh crash-node I   power cut: SIGKILL dockerd, containerd, shims and tasks of node I
#   scripts/cluster.sh cut-node I     unplug node I (its switch port down; no packets either way)
#   scripts/cluster.sh heal-node I    plug it back in
#   scripts/cluster.sh restart-node I start node I's dockerd again (after crash-node, once the
#                                     manager lists it Down); returns once it is Ready again
#   scripts/cluster.sh restart-engine I  graceful restart of node I's dockerd (SIGTERM: it stops its
#                                         containers, as systemctl restart docker does), then start it
#                                         (a worker once the manager lists it Down), until Ready
#   scripts/cluster.sh load-image IMG...  copy images from the host daemon into every node
#
# Environment: FAASCTL_BASE_IMAGE (default faasctl/python-base:bookworm, from scripts/testbed.sh),
# FAASCTL_CLUSTER_DIR (state, default /tmp/faasctl-cluster), FAASCTL_CLUSTER_NET (first three
# octets of the /24, default 192.168.223).
set -euo pipefail

BASE_IMAGE=${FAASCTL_BASE_IMAGE:-faasctl/python-base:bookworm}
STATE=${FAASCTL_CLUSTER_DIR:-/tmp/faasctl-cluster}
NET=${FAASCTL_CLUSTER_NET:-192.168.223}
P=fcl                                   # netns fcl-sw, fcl-n<i>; link fcl-host; cgroups /fcl-n<i>
NNODES=3
HEARTBEAT=1s
CACHE=/var/lib/faasctl-testbed          # same filesystem as /tmp here: the golden copy hard-links
GOLDEN=$CACHE/cluster-golden
REGISTRY_DIR=$CACHE/registry            # kept across down/up (content-addressed); down --purge removes it
REGISTRY=$NET.1:5000
REGISTRY_BIN=/usr/bin/docker-registry
LOG_DIR=/var/log/faasctl-testbed
LOCK=/run/lock/faasctl-cluster.lock
HOST_DOCKER=unix:///var/run/docker.sock # only `docker save` / `image inspect`

unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

SAY_PREFIX=cluster
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
ndir() { echo "$STATE/n$1"; }
sock() { echo "unix://$STATE/n$1/docker.sock"; }
nip() { echo "$NET.$((10 + $1))"; }
nname() { echo "$P-n$1"; }
frz() { echo "/sys/fs/cgroup/freezer/$P-n$1"; }
dk() {
  local i=$1
  shift
  timeout 120 docker -H "$(sock "$i")" "$@"
}
hd() { docker -H "$HOST_DOCKER" "$@"; }
check_node() { [[ $1 =~ ^[1-3]$ ]] || die "node must be 1, 2 or 3 (got '${1:-}')"; }

# waitfor SECONDS CMD...: poll every 0.1 s until CMD succeeds.
waitfor() {
  local end
  end=$(awk -v a="$(now)" -v t="$1" 'BEGIN { printf "%.3f", a + t }')
  shift
  until "$@" >/dev/null 2>&1; do
    awk -v a="$(now)" -v e="$end" 'BEGIN { exit !(a > e) }' && return 1
    sleep 0.1
  done
}
waitpids() {
  local p rc=0
  for p in "$@"; do wait "$p" || rc=1; done
  return $rc
}
# Runs a command detached: own session, stdin /dev/null, output to LOG, no inherited descriptors
# (our lock, or the pipe of a test runner that shells out to us), so it never holds its caller.
detach() {
  local log=$1
  shift
  (
    cd /
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid "$@" </dev/null >>"$log" 2>&1
  ) &
}

# ---------------------------------------------------------------------------------------------
# network: switch netns with a bridge, host uplink, one netns per node

net_complete() {
  local i
  ip link show "$P-host" >/dev/null 2>&1 && ip -n "$P-sw" link show br0 >/dev/null 2>&1 || return 1
  for i in $(seq 1 $NNODES); do
    # No `| grep -q` under pipefail: an early exit of grep can fail the pipeline (SIGPIPE).
    [[ $(ip -n "$(nname "$i")" addr show dev eth0 2>/dev/null) == *"inet $(nip "$i")/"* ]] || return 1
  done
}

net_up() {
  ip netns add "$P-sw"
  ip -n "$P-sw" link set lo up
  ip -n "$P-sw" link add br0 type bridge
  ip -n "$P-sw" link set br0 up
  ip link add "$P-host" type veth peer name uplink netns "$P-sw"
  ip -n "$P-sw" link set uplink master br0 up
  ip addr add "$NET.1/24" dev "$P-host"
  ip link set "$P-host" up
  local i
  for i in $(seq 1 $NNODES); do
    ip netns add "$(nname "$i")"
    ip -n "$(nname "$i")" link set lo up
    ip -n "$P-sw" link add "n$i" type veth peer name eth0 netns "$(nname "$i")"
    ip -n "$P-sw" link set "n$i" master br0 up
    ip -n "$(nname "$i")" addr add "$(nip "$i")/24" dev eth0
    ip -n "$(nname "$i")" link set eth0 up
  done
}

net_down() {
  local i
  for i in $(seq 1 $NNODES); do ip netns del "$(nname "$i")" 2>/dev/null || :; done
  ip link del "$P-host" 2>/dev/null || :
  ip netns del "$P-sw" 2>/dev/null || :
}

# ---------------------------------------------------------------------------------------------
# node daemons

node_pid() {
  local pid
  pid=$(cat "$(ndir "$1")/dockerd.pid" 2>/dev/null) && alive "$pid" && echo "$pid"
}
node_up() { node_pid "$1" >/dev/null && dk "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Why not `ip netns exec`: it remounts /sys for the netns, which hides /sys/fs/cgroup. nsenter
# --net + unshare --mount and a sysfs mount that keeps the cgroup mounts gives both.
start_node() {
  local i=$1 d
  d=$(ndir "$i")
  node_up "$i" && return 0
  mkdir -p "$d/data" "$d/exec" "$d/cgmnt" "$(frz "$i")"
  echo THAWED >"$(frz "$i")/freezer.state"
  # A stale containerd.pid whose PID still answers kill -0 (a zombie after crash-node, or a
  # recycled PID) makes dockerd wait for that "running" containerd and give up after ~15 s.
  rm -f "$d/docker.sock" "$d/dockerd.pid" "$d/exec/containerd/containerd.pid"
  # No DOCKER_SERVICE_PREFER_OFFLINE_IMAGE here: images come by digest from the registry, and
  # with it set the nodes would never pull.
  # shellcheck disable=SC2016
  detach "$d/dockerd.log" env -u DOCKER_SERVICE_PREFER_OFFLINE_IMAGE -u DOCKER_HOST \
    FRZ="$(frz "$i")" D="$d" NODE="$(nname "$i")" REG="$REGISTRY" \
    nsenter --net="/run/netns/$(nname "$i")" -- unshare --mount --uts --propagation slave -- bash -c '
      set -e
      echo $$ > "$FRZ/cgroup.procs"             # dockerd, containerd, shims and tasks inherit it
      hostname "$NODE"
      mount --rbind /sys/fs/cgroup "$D/cgmnt"    # keep the host cgroup mounts ...
      mount -t sysfs sysfs /sys                  # ... under a /sys that describes this netns
      mount --rbind "$D/cgmnt" /sys/fs/cgroup
      umount -l "$D/cgmnt"
      exec dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid" \
        -H "unix://$D/docker.sock" --cgroup-parent "/$NODE" --insecure-registry "$REG"'
  waitfor 60 node_up "$i" || {
    tail -n 20 "$d/dockerd.log" >&2
    say "node $i: dockerd gives no answer (log $d/dockerd.log)"
    return 1
  }
}

node_pids() { find "$(frz "$1")" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un; }

# A SIGKILLed containerd-shim-runc-v2 leaves its socket in /run/containerd/s/, named
# sha256("<containerd.sock>/moby/<container id>"): remove node i's.
rm_shim_sockets() {
  local d id h
  d=$(ndir "$1")
  for id in $(ls "$d/exec/containerd/daemon/io.containerd.runtime.v2.task/moby" 2>/dev/null); do
    h=$(printf '%s' "$d/exec/containerd/containerd.sock/moby/$id" | sha256sum | cut -d' ' -f1)
    rm -f "/run/containerd/s/$h"
  done
}

# Power cut: freeze node i (nothing can react or fork), SIGKILL all of it, thaw so the kills land.
kill_all() {
  local i=$1 f t pids
  f=$(frz "$i")
  [[ -d $f ]] || return 0
  echo FROZEN >"$f/freezer.state"
  for t in $(seq 50); do grep -q FROZEN "$f/freezer.state" && break; sleep 0.02; done
  for t in $(seq 50); do
    pids=$(node_pids "$i")
    # shellcheck disable=SC2086
    [[ -n $pids ]] && { kill -KILL $pids 2>/dev/null || :; }
    echo THAWED >"$f/freezer.state"
    [[ -z $pids ]] && break
    sleep 0.05
  done
  rm_shim_sockets "$i"
}

# stop_node I [GRACE]: SIGTERM dockerd (stops its containers and containerd), then after GRACE
# seconds (default 20) kill what is left. A swarm node's dockerd takes ~6 s to shut down.
stop_node() {
  local i=$1 pid
  if pid=$(node_pid "$i"); then
    echo THAWED >"$(frz "$i")/freezer.state" 2>/dev/null || :
    kill -TERM "$pid" 2>/dev/null || :
    waitfor "${2:-20}" bash -c "! kill -0 $pid" || :
  fi
  kill_all "$i"
}

rm_cgroups() { find /sys/fs/cgroup/*/"$P-n$1" -depth -type d -exec rmdir {} \; 2>/dev/null || :; }

# ---------------------------------------------------------------------------------------------
# registry (Debian's docker-registry, the distribution registry), on the host side of the switch

registry_pid() {
  local pid
  pid=$(cat "$STATE/registry.pid" 2>/dev/null) && alive "$pid" &&
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$STATE/registry.yml"* ]] && echo "$pid"
}
# Only while <net>.1 is ours (fcl-host): otherwise the host's default route would carry the request
# off the machine. The answer must be a distribution registry's.
registry_answers() {
  [[ $(ip -o -4 addr show dev "$P-host" 2>/dev/null) == *" $NET.1/"* ]] || return 1
  [[ $(curl -fsS -m 2 --noproxy '*' -D - -o /dev/null "http://$REGISTRY/v2/" 2>/dev/null) == *[Dd]ocker-[Dd]istribution-[Aa]pi-[Vv]ersion:\ registry/2.0* ]]
}
registry_up() { registry_pid >/dev/null && registry_answers; }

ensure_registry() {
  registry_up && return 0
  [[ -x $REGISTRY_BIN ]] || apt_install docker-registry
  local pid
  if pid=$(registry_pid); then kill "$pid" 2>/dev/null || :; fi
  mkdir -p "$REGISTRY_DIR" "$STATE"
  cat >"$STATE/registry.yml" <<CONF
# faasctl cluster test bed only: written by scripts/cluster.sh
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY
  secret: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
CONF
  detach "$STATE/registry.log" "$REGISTRY_BIN" serve "$STATE/registry.yml"
  echo $! >"$STATE/registry.pid"
  waitfor 20 registry_up || {
    tail -n 20 "$STATE/registry.log" >&2
    die "registry not answering GET http://$REGISTRY/v2/ (log $STATE/registry.log)"
  }
}

stop_registry() {
  local pid
  pid=$(registry_pid) || return 0
  kill -TERM "$pid" 2>/dev/null || :
  waitfor 10 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || :
}

# ---------------------------------------------------------------------------------------------
# base image on the manager, and the golden data-root cache

host_image_id() { hd image inspect -f '{{.Id}}' "$1" 2>/dev/null; }
node_image_id() { dk "$1" image inspect -f '{{.Id}}' "$2" 2>/dev/null; }

# A copy of the cached data-root: image layers (overlay2/, never written after extraction) are
# hard-linked, everything else (bolt databases written in place) really copied.
golden_copy() {
  local dst=$1 x
  mkdir -p "$dst"
  cp -al "$GOLDEN/data/overlay2" "$dst/" 2>/dev/null || cp -a "$GOLDEN/data/overlay2" "$dst/"
  for x in "$GOLDEN"/data/*; do [[ ${x##*/} == overlay2 ]] || cp -a "$x" "$dst/"; done
}

load_into() { # load_into TAR NODE...
  local tar=$1 i pids=()
  shift
  for i in "$@"; do dk "$i" load -q -i "$tar" >/dev/null & pids+=($!); done
  waitpids "${pids[@]}"
}

# The manager has the host's current base image (another `testbed.sh up` may have rebuilt it).
ensure_manager_image() {
  local gid=$1 t1
  [[ $(node_image_id 1 "$BASE_IMAGE") == "$gid" ]] && return 0
  t1=$(now)
  hd save -o "$STATE/base.tar" "$BASE_IMAGE"
  load_into "$STATE/base.tar" 1
  rm -f "$STATE/base.tar"
  say "base image $BASE_IMAGE (${gid:7:12}) loaded into the manager in $(since "$t1") s"
}

# Keeps the manager's pre-swarm data-root (base image loaded) for the next cold `up`. The base
# image is pushed to the registry first: the data-root then knows its layers' compressed digests,
# so a later push of an image built on it (faasctl's runtime image) does not compress them again
# (~8 s) and finds them in the registry.
save_golden() {
  local gid=$1 t1 ref=$REGISTRY/faasctl-cluster/base:${1:7:12}
  t1=$(now)
  dk 1 tag "$BASE_IMAGE" "$ref"
  dk 1 push -q "$ref" >/dev/null
  dk 1 image rm "$ref" >/dev/null
  say "base image pushed to the registry ($ref) in $(since "$t1") s"
  stop_node 1
  rm -rf "$GOLDEN.new"
  mkdir -p "$GOLDEN.new"
  cp -a "$(ndir 1)/data" "$GOLDEN.new/data"
  echo "$gid" >"$GOLDEN.new/image-id"
  rm -rf "$GOLDEN"
  mv "$GOLDEN.new" "$GOLDEN"
  start_node 1
  say "golden data-root saved ($GOLDEN, key ${gid:7:12}) in $(since "$t1") s"
}

# ---------------------------------------------------------------------------------------------
# swarm

swarm_state() { dk "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }
ready_nodes() { dk 1 node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | awk '$2 == "Ready"' | sort -u | wc -l; }
all_ready() { [[ $(ready_nodes) -ge $NNODES ]]; }
# node_is I STATUS: the manager lists node I as STATUS (Ready, Down, Unknown).
node_is() { [[ $(dk 1 node ls --filter "name=$(nname "$1")" --format '{{.Hostname}} {{.Status}}' 2>/dev/null) == *"$(nname "$1") $2"* ]]; }

# Why a worker's engine starts only once the manager lists it Down: a worker that registers
# again while the manager is still expiring its old session can be left Down for good (on 20.10
# the manager wrote "heartbeat failure" in the same millisecond as the new registration, and
# the agent, connected, never registers again), or listed Ready while every task sent to it
# stays Assigned. A real power cut or engine restart outlasts the heartbeat timeout; here one
# may follow the other within a second.
boot_node() {
  local i=$1
  [[ $i == 1 ]] && { start_node 1; return; }
  waitfor 20 node_is "$i" Down || :
  start_node "$i" || return 1
  waitfor 30 node_is "$i" Ready
}

# After crash-node; a worker whose engine runs but that is listed Down is restarted.
restart_node() {
  local i=$1
  node_up "$i" || { boot_node "$i"; return; }
  [[ $i == 1 ]] && return 0
  waitfor 20 node_is "$i" Ready && return 0
  say "node $i: its engine runs but the manager lists it $(dk 1 node ls --filter "name=$(nname "$i")" --format '{{.Status}}' 2>/dev/null); restarting the engine so it registers again"
  stop_node "$i"
  boot_node "$i"
}

join_node() {
  local i=$1
  # A stale entry of this hostname (a node that lost its state) would stay Down forever.
  dk 1 node ls --format '{{.ID}} {{.Hostname}} {{.Status}}' | awk -v h="$(nname "$i")" '$2 == h && $3 != "Ready" { print $1 }' |
    while read -r id; do dk 1 node rm --force "$id" >/dev/null || :; done
  dk "$i" swarm join --token "$(dk 1 swarm join-token -q worker)" \
    --advertise-addr "$(nip "$i")" --listen-addr "$(nip "$i"):2377" "$(nip 1):2377" >/dev/null
}

healthy() {
  local i
  net_complete || return 1
  for i in $(seq 1 $NNODES); do
    node_pid "$i" >/dev/null || return 1
    [[ $(ip -n "$P-sw" -o link show "n$i" 2>/dev/null) == *'state UP'* ]] || return 1
  done
  all_ready && registry_up
}

# ---------------------------------------------------------------------------------------------

cmd_up() {
  [[ $(id -u) == 0 ]] || die 'must run as root'
  local gid i pids=()
  T0=$(now)
  mkdir -p "${LOCK%/*}"
  exec 9>"$LOCK"
  flock -w 300 9 || die "another cluster.sh holds $LOCK"
  gid=$(host_image_id "$BASE_IMAGE") || die "no $BASE_IMAGE on the host daemon: run scripts/testbed.sh up"

  if healthy; then
    ensure_manager_image "$gid"
    say "cluster ok (3 nodes Ready, manager $(sock 1), registry $REGISTRY) in $(since "$T0") s"
    return
  fi

  # No network, or no manager state: start from scratch (removing any half of a cluster first).
  if ! net_complete || ! [[ -d $(ndir 1)/data ]]; then
    cold_start "$gid"
  else
    start_nodes || die 'a node did not start'
    if [[ $(swarm_state 1) != active ]]; then
      say "the manager lost its swarm, starting over"
      cold_start "$gid"
    fi
  fi
  ensure_manager_image "$gid"
  [[ $GOLDEN_STATE == miss ]] && save_golden "$gid"

  if [[ $(swarm_state 1) != active ]]; then
    dk 1 swarm init --advertise-addr "$(nip 1)" --listen-addr "$(nip 1):2377" \
      --dispatcher-heartbeat "$HEARTBEAT" >/dev/null
  fi
  local s
  pids=()
  for i in $(seq 2 $NNODES); do
    s=$(swarm_state "$i")
    [[ $s == active ]] && continue
    [[ $s == inactive ]] || dk "$i" swarm leave --force >/dev/null 2>&1 || :
    join_node "$i" &
    pids+=($!)
  done
  waitpids "${pids[@]}" || die 'a worker did not join'
  # A worker left Down by a run that crashed and restarted it too fast (restart_node) registers
  # again once its engine restarts.
  if ! waitfor 20 all_ready; then
    for i in $(seq 2 $NNODES); do node_is "$i" Ready || restart_node "$i" || :; done
  fi
  waitfor 60 all_ready || {
    dk 1 node ls >&2 || :
    die 'nodes not Ready after 60 s'
  }
  say "swarm of 3 nodes Ready (manager $(sock 1), heartbeat $HEARTBEAT); up in $(since "$T0") s"
}

GOLDEN_STATE=
# A new network and node 1's data-root from the golden cache when its key is the base image's ID.
cold_start() {
  local gid=$1
  if [[ -d $STATE ]] || ip link show "$P-host" >/dev/null 2>&1 || [[ $(ip netns list) == *"$P-"* ]]; then
    say "partial cluster found, removing it first"
    teardown
  fi
  mkdir -p "$STATE"
  net_up
  say "network up ($NET.0/24: host .1, nodes .11-.13, switch netns $P-sw)"
  if [[ $(cat "$GOLDEN/image-id" 2>/dev/null) == "$gid" ]]; then
    GOLDEN_STATE=hit
    golden_copy "$(ndir 1)/data"
  else
    GOLDEN_STATE=miss
  fi
  start_nodes || die 'a node did not start'
}

# Every node's switch port up and its dockerd answering; the registry answering.
start_nodes() {
  local i pids=() rc=0
  for i in $(seq 1 $NNODES); do
    ip -n "$P-sw" link set "n$i" up
    start_node "$i" &
    pids+=($!)
  done
  ensure_registry
  waitpids "${pids[@]}" || rc=1
  say "dockerds up${GOLDEN_STATE:+ (golden data-root: $GOLDEN_STATE)}, registry ok (http://$REGISTRY/v2/) at $(since "$T0") s"
  return $rc
}

# Everything but the caches.
teardown() {
  local i
  for i in $(seq 1 $NNODES); do
    # Everything of the node goes anyway: 2 s for dockerd to stop its tasks, then a power cut.
    { [[ -d $(ndir "$i") ]] || [[ -d $(frz "$i") ]]; } && stop_node "$i" 2 &
  done
  wait
  stop_registry
  for i in $(seq 1 $NNODES); do rm_cgroups "$i"; done
  net_down
  # The overlay2 mounts lived only in the (now gone) mount namespaces of the nodes.
  rm -rf "$STATE"
}

cmd_down() {
  [[ $(id -u) == 0 ]] || die 'must run as root'
  local t0
  t0=$(now)
  mkdir -p "${LOCK%/*}"
  exec 9>"$LOCK"
  flock -w 300 9 || die "another cluster.sh holds $LOCK"
  teardown
  if [[ ${1:-} == --purge ]]; then
    rm -rf "$GOLDEN" "$GOLDEN.new" "$REGISTRY_DIR"
    say "caches removed ($GOLDEN, $REGISTRY_DIR)"
  fi
  say "down: daemons, registry, netns, cgroups and $STATE removed in $(since "$t0") s"
}

cmd_status() {
  local rc=0 i s
  line() { printf '%-10s %s\n' "$1" "$2"; }
  if net_complete; then line network "ok ($NET.0/24)"; else line network MISSING; rc=1; fi
  if registry_up; then line registry "ok (http://$REGISTRY, pid $(registry_pid), storage $REGISTRY_DIR)"; else
    line registry "MISSING ($REGISTRY)"; rc=1; fi
  for i in $(seq 1 $NNODES); do
    if node_up "$i"; then
      s=$(dk 1 node inspect "$(nname "$i")" --format '{{.Spec.Role}} {{.Status.State}} {{.Status.Addr}}' 2>/dev/null) || s='not in the swarm'
      [[ $s == *' ready '* ]] || rc=1
      [[ $(ip -n "$P-sw" -o link show "n$i" 2>/dev/null) == *'state UP'* ]] || { s="$s (port cut)"; rc=1; }
      line "$(nname "$i")" "$s ($(sock "$i"))"
    else
      line "$(nname "$i")" "DOWN (no dockerd)"
      rc=1
    fi
  done
  return $rc
}

cmd_env() {
  printf 'export %s=%q\n' DOCKER_HOST "$(sock 1)" FAASCTL_CLUSTER_REGISTRY "$REGISTRY"
}

cmd_load_image() {
  (($#)) || die 'load-image needs at least one image'
  local t0 i nodes=()
  t0=$(now)
  for i in $(seq 1 $NNODES); do node_up "$i" && nodes+=("$i"); done
  hd save -o "$STATE/extra.tar" "$@"
  load_into "$STATE/extra.tar" "${nodes[@]}"
  rm -f "$STATE/extra.tar"
  say "loaded $* into nodes ${nodes[*]} in $(since "$t0") s"
}

case ${1:-up} in
  up) cmd_up ;;
  down) cmd_down "${2:-}" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  crash-node) check_node "${2:-}" && kill_all "$2" ;;
  cut-node) check_node "${2:-}" && ip -n "$P-sw" link set "n$2" down ;;
  heal-node) check_node "${2:-}" && ip -n "$P-sw" link set "n$2" up ;;
  restart-node) check_node "${2:-}" && restart_node "$2" ;;
  restart-engine) check_node "${2:-}" && stop_node "$2" && boot_node "$2" ;;
  load-image)
    shift
    cmd_load_image "$@"
    ;;
  -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
  *)
    say "unknown command '$1' (up | down | status | env | crash-node | cut-node | heal-node | restart-node | restart-engine | load-image)"
    exit 2
    ;;
esac
