#!/usr/bin/env bash
# faasctl test bed: the real Docker engine (single-node Swarm) and PostgreSQL pieces that the
# integration and e2e tests run against. Runs as root on Debian 12. Idempotent; a run that finds
# everything in place takes well under 2 s and changes nothing.
#
#   scripts/testbed.sh [up]   ensure engine, swarm, images, host PostgreSQL binaries and the test
#                             sshd on 127.0.0.1 (log: stderr)
#   scripts/testbed.sh env    print export lines for the names the tests use
#   scripts/testbed.sh status one line per component; exits 1 if something is missing
#   scripts/testbed.sh verify run the images for real (container, Swarm service with a secret,
#                             Python job); removes everything it creates
#
# No registry is reachable on the test machines, so both images are built from Debian packages,
# fetched from the mirror that the machine's own apt sources name (read at run time; never put a
# mirror host in this repository). Logs of the slow steps: /var/log/faasctl-testbed/.
#
# Environment: FAASCTL_BASE_IMAGE (default faasctl/python-base:bookworm), FAASCTL_POSTGRES_IMAGE
# (default faasctl/postgres:15-bookworm), FAASCTL_DEBIAN_MIRROR (overrides the apt sources).
set -euo pipefail

BASE_IMAGE=${FAASCTL_BASE_IMAGE:-faasctl/python-base:bookworm}
PG_IMAGE=${FAASCTL_POSTGRES_IMAGE:-faasctl/postgres:15-bookworm}
SUITE=bookworm
SOCK=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
LOG_DIR=/var/log/faasctl-testbed
LOCK=/run/lock/faasctl-testbed.lock
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The ssh:// tests' own sshd: loopback only, its own host key, config and authorized key, all
# under SSH_DIR. The machine's sshd, port 22 and ~/.ssh are never touched.
SSH_DIR=${FAASCTL_TESTBED_SSH_DIR:-/var/lib/faasctl-testbed/ssh}
SSH_PORT=${FAASCTL_TESTBED_SSH_PORT:-2222}
TLS_DIR=${FAASCTL_TESTBED_TLS_DIR:-/var/lib/faasctl-testbed/tls}
TLS_PORT=${FAASCTL_TESTBED_TLS_PORT:-2376}

# Always the local engine, whatever the caller's environment points at.
export DOCKER_HOST=unix://$SOCK
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

SAY_PREFIX=testbed
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------------------------------------
# 1. Docker engine

engine_version() { timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null; }

start_dockerd() {
  local log=$LOG_DIR/dockerd.log
  mkdir -p "$LOG_DIR"
  # Detached: own session, stdin from /dev/null, no inherited descriptors (our lock, or a pipe
  # that a test runner waits on), so the daemon outlives this script and never holds its caller.
  (
    cd /
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    # Tasks use the local image instead of first trying a registry pull that cannot work here.
    export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
    unset DOCKER_HOST
    # The unix socket as usual, plus a TLS listener on loopback for the tcp:// tests.
    exec setsid nohup dockerd -H "unix://$SOCK" -H "tcp://127.0.0.1:$TLS_PORT" --tlsverify \
      --tlscacert "$TLS_DIR/ca.pem" --tlscert "$TLS_DIR/server-cert.pem" --tlskey "$TLS_DIR/server-key.pem" \
      </dev/null >>"$log" 2>&1
  ) &
  DOCKERD_PID=$!
}


# A dockerd started by someone else (e.g. the package's init script) lacks our environment.
warn_foreign_dockerd() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 ||
    say "warning: dockerd (pid $pid) runs without DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: tasks try a registry pull first; restart it with this script"
}

# bash's /dev/tcp, not ss: iproute2 may be missing on a minimal machine.
tls_listening() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$TLS_PORT" 2>/dev/null; }

# A CA, a server certificate for 127.0.0.1, a client certificate, and a second CA that signed
# nothing the daemon trusts (for the wrong-CA test). openssl, once; kept under $TLS_DIR.
ensure_tls_certs() {
  [[ -s $TLS_DIR/ca.pem && -s $TLS_DIR/cert.pem && -s $TLS_DIR/other-ca.pem ]] && return
  command -v openssl >/dev/null || apt_install openssl
  mkdir -p "$TLS_DIR" && chmod 700 "$TLS_DIR"
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=faasctl-testbed-ca -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=not-the-testbed-ca -keyout other-ca-key.pem -out other-ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -extfile server.ext -out server-cert.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=faasctl-client -keyout key.pem -out client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -extfile client.ext -out cert.pem 2>/dev/null
    rm -f ./*.csr ./*.ext ./*.srl
    chmod 600 ./*-key.pem key.pem
  ) || die "could not generate the TLS certificates in $TLS_DIR"
  say "generated TLS certificates in $TLS_DIR"
}

# A dockerd this script started earlier without the TLS listener: restart it once with it.
restart_without_tls() {
  local pid
  [[ -s $PIDFILE ]] && pid=$(<"$PIDFILE") || return 1
  [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == dockerd* ]] || return 1
  say "restarting dockerd (pid $pid) to add its TLS listener on 127.0.0.1:$TLS_PORT"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while alive "$pid"; do
    ((SECONDS < deadline)) || die "dockerd (pid $pid) did not stop in 60 s"
    sleep 0.25
  done
}

ensure_engine() {
  local v pid=
  ensure_tls_certs
  if v=$(engine_version) && ! tls_listening && restart_without_tls; then
    v=
  fi
  if [[ -n $v ]] || v=$(engine_version); then
    say "docker engine ok ($v)"
    tls_listening && say "docker TLS ok (127.0.0.1:$TLS_PORT, $TLS_DIR)" || say "docker TLS MISSING (dockerd not started by this script)"
    warn_foreign_dockerd
    return
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  if [[ -s $PIDFILE ]]; then
    pid=$(<"$PIDFILE")
    if ! alive "$pid" || [[ $(cat "/proc/$pid/comm" 2>/dev/null) != dockerd ]]; then
      say "removing stale $PIDFILE (pid $pid)"
      rm -f "$PIDFILE"
      pid=
    fi
  fi
  if [[ -n $pid ]]; then
    say "dockerd (pid $pid) running but not answering yet, waiting"
  else
    start_dockerd
    pid=$DOCKERD_PID
    say "started dockerd (pid $pid, log $LOG_DIR/dockerd.log)"
  fi
  local deadline=$((SECONDS + 60))
  until v=$(engine_version); do
    alive "$pid" || fail "$LOG_DIR/dockerd.log" 'dockerd exited'
    ((SECONDS < deadline)) || fail "$LOG_DIR/dockerd.log" "dockerd not answering on $SOCK after 60 s"
    sleep 0.25
  done
  say "docker engine ok ($v)"
  warn_foreign_dockerd
}

# ---------------------------------------------------------------------------------------------
# 2. Swarm

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }

ensure_swarm() {
  local state deadline=$((SECONDS + 60))
  state=$(swarm_state) || die 'docker info failed'
  # Right after an engine restart (a reboot) the node is `pending` while it rejoins its own
  # swarm: wait for it, bounded, rather than try to init a second one (issue 17).
  while [[ $state == pending ]] && ((SECONDS < deadline)); do
    sleep 0.5
    state=$(swarm_state) || die 'docker info failed'
  done
  if [[ $state != active ]]; then
    say "swarm $state, running swarm init"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    state=$(swarm_state)
    [[ $state == active ]] || die "swarm still $state after swarm init"
  fi
  say "swarm ok ($state)"
}

# ---------------------------------------------------------------------------------------------
# 3. Python base image

# image_size NAME: prints the size in MB; fails if the image is absent.
image_size() {
  local bytes
  bytes=$(docker image inspect --format '{{.Size}}' "$1" 2>/dev/null) || return 1
  echo "$((bytes / 1000000)) MB"
}

# Prints "URI<TAB>KEYRING" for each apt source of $SUITE with component main (deb822 first).
apt_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk -v suite="$SUITE" '
      function has(list, w,   a, n, i) {
        n = split(list, a, /[ \t]+/)
        for (i = 1; i <= n; i++) if (a[i] == w) return 1
        return 0
      }
      function flush(   u) {
        if (tolower(f["enabled"]) != "no" && has(f["types"], "deb") && has(f["suites"], suite) &&
            has(f["components"], "main")) {
          split(f["uris"], u, /[ \t]+/)
          if (u[1] != "") print u[1] "\t" f["signed-by"]
        }
        delete f
        key = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (key != "") f[key] = f[key] " " $0; next }
      {
        i = index($0, ":")
        key = tolower(substr($0, 1, i - 1))
        val = substr($0, i + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", val)
        f[key] = val
      }
      END { flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk -v suite="$SUITE" '
      $1 != "deb" { next }
      {
        i = 2; key = ""
        if ($2 ~ /^\[/) {
          for (; i <= NF; i++) {
            if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) }
            if ($i ~ /\]$/) { i++; break }
          }
        }
        if ($(i + 1) != suite) next
        for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i "\t" key; next }
      }
    ' "$f"
  done
}

# Sets MIRROR and KEYRING (may be empty) from FAASCTL_DEBIAN_MIRROR or the apt sources.
find_mirror() {
  MIRROR=${FAASCTL_DEBIAN_MIRROR:-} KEYRING=
  [[ -n $MIRROR ]] && return
  local uri key
  while IFS=$'\t' read -r uri key; do
    [[ $uri =~ ^(https?|file):// ]] || continue # debootstrap cannot use mirror+, cdrom:, ...
    MIRROR=$uri
    [[ $key == /*.gpg && -r $key ]] && KEYRING=$key
    return
  done < <(apt_sources)
  die "no apt source for '$SUITE' with component main in /etc/apt/sources.list{,.d/}"
}

# Unmounts whatever debootstrap may have left mounted under $1, then removes it.
remove_rootfs() {
  local dir=$1 m
  [[ -d $dir ]] || return 0
  while read -r m; do
    umount -l "$m" 2>/dev/null || :
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

build_base_image() {
  command -v debootstrap >/dev/null || apt_install debootstrap
  find_mirror
  local log=$LOG_DIR/debootstrap.log
  mkdir -p "$LOG_DIR"
  WORK=$(mktemp -d /var/tmp/faasctl-testbed-rootfs.XXXXXX)
  trap 'remove_rootfs "$WORK"' EXIT
  local root=$WORK/root
  say "debootstrap $SUITE from $MIRROR (a few minutes; log $log)"
  # python3-pip (with Debian's setuptools and wheel) lets faasctl install a function's requirements,
  # local source packages included, without reaching any index.
  debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates ${KEYRING:+--keyring="$KEYRING"} \
    "$SUITE" "$root" "$MIRROR" >"$log" 2>&1 || fail "$log" 'debootstrap failed'
  # debootstrap's /etc/apt/sources.list (the same mirror) stays, so apt-get works in docker build.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  find "$root/dev" -mindepth 1 -delete # the engine provides /dev
  say "importing $BASE_IMAGE"
  tar --numeric-owner -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' -c 'LABEL io.faasctl.testbed=python-base' -c 'LABEL io.faasctl.testbed.pip=1' \
    -c 'CMD ["python3"]' -m "debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates $SUITE" \
    - "$BASE_IMAGE" >/dev/null
  remove_rootfs "$WORK"
  trap - EXIT
}

# base_image_stale IMAGE: our own base image from before pip was in it (rebuilt by ensure_base_image).
base_image_stale() {
  local labels
  labels=$(docker image inspect --format \
    '{{index .Config.Labels "io.faasctl.testbed"}} {{index .Config.Labels "io.faasctl.testbed.pip"}}' "$1" 2>/dev/null) || return 1
  [[ $labels == 'python-base ' ]]
}

ensure_base_image() {
  local size
  if base_image_stale "$BASE_IMAGE"; then
    say "base image $BASE_IMAGE has no pip (built before python3-pip was added), rebuilding it"
    build_base_image
    say "base image rebuilt ($BASE_IMAGE, $(image_size "$BASE_IMAGE"))"
    return
  fi
  if size=$(image_size "$BASE_IMAGE"); then
    say "base image ok ($BASE_IMAGE, $size)"
    return
  fi
  if timeout 30 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image pulled ($BASE_IMAGE, $(image_size "$BASE_IMAGE"))"
    return
  fi
  say "base image $BASE_IMAGE absent and not pullable, building it from Debian packages"
  build_base_image
  say "base image built ($BASE_IMAGE, $(image_size "$BASE_IMAGE"))"
}

# ---------------------------------------------------------------------------------------------
# 4. PostgreSQL stand-in image

# pg_smoke IMAGE: first start of a throwaway container, then a password login over TCP.
pg_smoke() {
  local c ok=
  c=$(docker run -d -e POSTGRES_PASSWORD=smoke "$1") || return 1
  for _ in $(seq 120); do
    if docker exec -e PGPASSWORD=smoke -e PGCONNECT_TIMEOUT=2 "$c" \
      psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 0.5
  done
  [[ -n $ok ]] || docker logs --tail 30 "$c" >&2 || :
  docker rm -f -v "$c" >/dev/null
  [[ -n $ok ]]
}

ensure_postgres_image() {
  local size log=$LOG_DIR/postgres-build.log
  if size=$(image_size "$PG_IMAGE"); then
    say "postgres image ok ($PG_IMAGE, $size)"
    return
  fi
  if timeout 30 docker pull -q postgres:15 >/dev/null 2>&1 && docker tag postgres:15 "$PG_IMAGE"; then
    say "postgres image pulled (postgres:15 tagged $PG_IMAGE, $(image_size "$PG_IMAGE"))"
    return
  fi
  say "postgres image $PG_IMAGE absent and postgres:15 not pullable, building it (log $log)"
  mkdir -p "$LOG_DIR"
  DOCKER_BUILDKIT=0 docker build --force-rm --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$PG_IMAGE" \
    "$HERE/testbed/postgres" >"$log" 2>&1 || fail "$log" 'postgres image build failed'
  if ! pg_smoke "$PG_IMAGE"; then
    docker image rm "$PG_IMAGE" >/dev/null 2>&1 || :
    die "the freshly built $PG_IMAGE does not start; image removed"
  fi
  say "postgres image built and checked ($PG_IMAGE, $(image_size "$PG_IMAGE"))"
}

# ---------------------------------------------------------------------------------------------
# 5. Host PostgreSQL server binaries (tests start throwaway clusters with initdb/pg_ctl)

host_pg_bindir() {
  local p
  if p=$(command -v initdb); then
    dirname "$(readlink -f "$p")"
    return
  fi
  p=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [[ -n $p ]] && dirname "$p"
}

# Debian's postinst creates and starts a "main" cluster: stop it and keep it from starting.
stop_host_clusters() {
  command -v pg_lsclusters >/dev/null || return 0
  local ver name _
  while read -r ver name _; do
    pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || :
    [[ -f /etc/postgresql/$ver/$name/start.conf ]] && echo manual >"/etc/postgresql/$ver/$name/start.conf"
    say "host cluster $ver/$name stopped, start.conf manual"
  done < <(pg_lsclusters -h 2>/dev/null)
}

ensure_host_postgres() {
  local bin b
  if ! bin=$(host_pg_bindir); then
    apt_install postgresql
    stop_host_clusters
    bin=$(host_pg_bindir) || die 'initdb still missing after installing postgresql'
  fi
  # Debian keeps the server binaries off PATH; the tests call them by name.
  for b in initdb pg_ctl postgres; do
    command -v "$b" >/dev/null || ln -s "$bin/$b" "/usr/local/bin/$b"
  done
  say "host postgres ok ($("$bin/initdb" --version | awk '{print $3}'), $bin)"
}

# ---------------------------------------------------------------------------------------------
# 6. sshd for ssh:// tests (Debian's openssh-server), root login by key on 127.0.0.1:$SSH_PORT

sshd_alive() {
  local pid
  pid=$(cat "$SSH_DIR/sshd.pid" 2>/dev/null) && alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sshd ]] &&
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT" 2>/dev/null
}

write_sshd_config() {
  cat >"$SSH_DIR/sshd_config" <<CONF
# faasctl test bed only: written by scripts/testbed.sh
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/ssh_host_ed25519_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
ClientAliveInterval 30
MaxStartups 100:30:200
# DEBUG1 logs each forwarded channel's target: the tests read it to prove that the database
# and warm replicas were reached through the tunnel.
LogLevel DEBUG1
CONF
}

ensure_sshd() {
  [[ -x /usr/sbin/sshd ]] || apt_install openssh-server
  mkdir -p "$SSH_DIR" /run/sshd
  chmod 700 "$SSH_DIR"
  [[ -s $SSH_DIR/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C faasctl-testbed-host -f "$SSH_DIR/ssh_host_ed25519_key"
  [[ -s $SSH_DIR/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C faasctl-testbed-user -f "$SSH_DIR/id_ed25519"
  # A second key that sshd does not accept: the tests' "wrong key" case.
  [[ -s $SSH_DIR/id_wrong ]] || ssh-keygen -q -t ed25519 -N '' -C faasctl-testbed-wrong -f "$SSH_DIR/id_wrong"
  cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")" >"$SSH_DIR/known_hosts"
  local old
  old=$(cat "$SSH_DIR/sshd_config" 2>/dev/null) || :
  write_sshd_config
  local log=$LOG_DIR/sshd.log
  mkdir -p "$LOG_DIR"
  if sshd_alive; then
    if [[ $old == "$(cat "$SSH_DIR/sshd_config")" ]]; then
      say "sshd ok (127.0.0.1:$SSH_PORT, $SSH_DIR)"
      return
    fi
    say "sshd config changed, restarting it"
    kill "$(cat "$SSH_DIR/sshd.pid")"
    local i
    for i in $(seq 50); do sshd_alive || break; sleep 0.1; done
  fi
  # DEBUG1 is chatty: keep the log bounded across runs.
  [[ $(stat -c %s "$log" 2>/dev/null || echo 0) -lt 50000000 ]] || : >"$log"
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" 2>>"$log" || fail "$log" 'sshd rejects its test-bed config'
  # sshd daemonises itself; setsid and closed descriptors keep it from holding our caller.
  (
    cd /
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$log" </dev/null
  )
  local deadline=$((SECONDS + 10))
  until sshd_alive; do
    ((SECONDS < deadline)) || fail "$log" "sshd not listening on 127.0.0.1:$SSH_PORT"
    sleep 0.1
  done
  say "sshd started (127.0.0.1:$SSH_PORT, pid $(cat "$SSH_DIR/sshd.pid"), $SSH_DIR)"
}

# ---------------------------------------------------------------------------------------------
# 7. Chromium (Debian's package), headless, for the test that renders `faasctl report`

ensure_chromium() {
  command -v chromium >/dev/null || apt_install --no-install-recommends chromium
  say "chromium ok ($(chromium --version 2>/dev/null | awk '{print $2}'))"
}

# 8. tmux, the real pseudo-terminal in which the menu's e2e test types

ensure_tmux() {
  command -v tmux >/dev/null || apt_install tmux
  say "tmux ok ($(tmux -V))"
}

# ---------------------------------------------------------------------------------------------

cmd_up() {
  mkdir -p "${LOCK%/*}"
  exec 9>"$LOCK"
  flock -w 900 9 || die "another testbed.sh holds $LOCK"
  ensure_engine
  ensure_swarm
  ensure_base_image
  ensure_postgres_image
  ensure_host_postgres
  ensure_sshd
  ensure_chromium
  ensure_tmux
}

cmd_env() {
  printf 'export %s=%q\n' FAASCTL_BASE_IMAGE "$BASE_IMAGE" FAASCTL_POSTGRES_IMAGE "$PG_IMAGE" \
    DOCKER_HOST "unix://$SOCK" FAASCTL_TESTBED_SSH_DIR "$SSH_DIR" FAASCTL_TESTBED_SSH_PORT "$SSH_PORT" \
    FAASCTL_TESTBED_TLS_DIR "$TLS_DIR" FAASCTL_TESTBED_TLS_PORT "$TLS_PORT"
}

cmd_status() {
  local rc=0 v s bin
  line() { printf '%-15s %s\n' "$1" "$2"; }
  if v=$(engine_version); then
    line engine "ok ($v)"
    s=$(swarm_state) || s=unknown
    if [[ $s == active ]]; then line swarm "ok ($s)"; else line swarm "MISSING ($s)"; rc=1; fi
    if base_image_stale "$BASE_IMAGE"; then line 'base image' "OLD ($BASE_IMAGE has no pip: run up)"; rc=1
    elif s=$(image_size "$BASE_IMAGE"); then line 'base image' "ok ($BASE_IMAGE, $s)"; else
      line 'base image' "MISSING ($BASE_IMAGE)"; rc=1; fi
    if s=$(image_size "$PG_IMAGE"); then line 'postgres image' "ok ($PG_IMAGE, $s)"; else
      line 'postgres image' "MISSING ($PG_IMAGE)"; rc=1; fi
  else
    line engine "MISSING (no answer on $SOCK)"
    line swarm unknown
    line 'base image' "unknown ($BASE_IMAGE)"
    line 'postgres image' "unknown ($PG_IMAGE)"
    rc=1
  fi
  if bin=$(host_pg_bindir); then line 'host postgres' "ok ($bin)"; else line 'host postgres' MISSING; rc=1; fi
  if sshd_alive; then line sshd "ok (127.0.0.1:$SSH_PORT)"; else line sshd "MISSING (127.0.0.1:$SSH_PORT)"; rc=1; fi
  return $rc
}

# ---------------------------------------------------------------------------------------------
# verify: exercise the images the way faasctl and its tests use them.

V=faasctl-testbed-verify-$$
verify_cleanup() {
  docker rm -f -v "$V-run" >/dev/null 2>&1 || :
  docker service rm "$V-pg" "$V-py" >/dev/null 2>&1 || :
  docker secret rm "$V-pw" >/dev/null 2>&1 || :
  # The volume stays busy until the service's task container is gone.
  local i
  for i in $(seq 60); do
    docker volume inspect "$V-data" >/dev/null 2>&1 || break
    docker volume rm "$V-data" >/dev/null 2>&1 && break
    sleep 0.5
  done
}

# wait_psql URL: until a query over TCP works (60 s).
wait_psql() {
  local i
  for i in $(seq 120); do
    PGCONNECT_TIMEOUT=2 psql "$1" -Atqc 'select current_user, current_database()' 2>/dev/null && return
    sleep 0.5
  done
  return 1
}

cmd_verify() {
  command -v psql >/dev/null || die 'verify needs psql on the host'
  cmd_status >/dev/null || die 'test bed incomplete; run: scripts/testbed.sh up'
  trap verify_cleanup EXIT
  local pw state i t0=$SECONDS

  docker run -d --name "$V-run" -e POSTGRES_PASSWORD=x -p 127.0.0.1:55432:5432 "$PG_IMAGE" >/dev/null
  wait_psql postgresql://postgres:x@127.0.0.1:55432/postgres >&2 || {
    docker logs --tail 30 "$V-run" >&2
    die "docker run $PG_IMAGE: no login"
  }
  docker rm -f -v "$V-run" >/dev/null
  say "verify: docker run $PG_IMAGE ok"

  pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s' "$pw" | docker secret create "$V-pw" - >/dev/null
  docker service create -d -q --no-resolve-image --name "$V-pg" --restart-condition none \
    --secret src="$V-pw",target=pgpw -e POSTGRES_PASSWORD_FILE=/run/secrets/pgpw \
    -e POSTGRES_USER=faas -e POSTGRES_DB=faasdb \
    --publish published=55433,target=5432,mode=host \
    --mount type=volume,source="$V-data",target=/var/lib/postgresql/data "$PG_IMAGE" >/dev/null
  wait_psql "postgresql://faas:$pw@127.0.0.1:55433/faasdb" >&2 || {
    docker service ps --no-trunc "$V-pg" >&2
    docker service logs --tail 30 "$V-pg" >&2 || :
    die "service $PG_IMAGE with a secret: no login"
  }
  say "verify: swarm service $PG_IMAGE with secret and volume ok"

  docker service create -d -q --no-resolve-image --restart-condition none --name "$V-py" \
    "$BASE_IMAGE" python3 -c 'print(1)' >/dev/null
  for i in $(seq 120); do
    state=$(docker service ps --format '{{.CurrentState}}' "$V-py" 2>/dev/null | head -n 1)
    [[ $state == Complete* || $state == Failed* || $state == Rejected* ]] && break
    sleep 0.25
  done
  [[ $state == Complete* && $(docker service logs --raw "$V-py" 2>/dev/null) == 1 ]] ||
    die "python3 service on $BASE_IMAGE: $state"
  say "verify: swarm service $BASE_IMAGE python3 ok"

  verify_cleanup
  trap - EXIT
  say "verify: all ok, cleaned up ($((SECONDS - t0)) s)"
}

case ${1:-up} in
  up) cmd_up ;;
  env) cmd_env ;;
  status) cmd_status ;;
  verify) cmd_verify ;;
  -h | --help | help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
  *)
    say "unknown command '$1' (up | env | status | verify)"
    exit 2
    ;;
esac
