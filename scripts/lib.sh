# shellcheck shell=bash
# Helpers shared by scripts/testbed.sh and scripts/cluster.sh. Source it after setting
# SAY_PREFIX (the word before each progress line) and LOG_DIR.

say() { printf '%s: %s\n' "$SAY_PREFIX" "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}
# fail LOGFILE MESSAGE: show the end of a log, then die.
fail() {
  tail -n 30 "$1" >&2 || :
  die "$2 (full log: $1)"
}

APT_UPDATED=
apt_install() {
  local log=$LOG_DIR/apt.log
  mkdir -p "$LOG_DIR"
  if [[ -z $APT_UPDATED ]]; then
    say "apt-get update"
    apt-get update >>"$log" 2>&1 || fail "$log" 'apt-get update failed'
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >>"$log" 2>&1 ||
    fail "$log" "apt-get install $* failed"
}

# alive PID: the process exists and is not a zombie.
alive() {
  local s
  s=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) && [[ -n $s && $s != Z ]]
}
