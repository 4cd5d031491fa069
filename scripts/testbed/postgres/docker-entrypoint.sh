#!/usr/bin/env bash
# Entrypoint of the faasctl PostgreSQL stand-in image: the subset of the official postgres image's
# docker-entrypoint.sh that faasctl relies on, with the same variables:
#   POSTGRES_PASSWORD / POSTGRES_PASSWORD_FILE   superuser password (required unless auth is trust)
#   POSTGRES_USER (default postgres), POSTGRES_DB (default = user), PGDATA (default
#   /var/lib/postgresql/data), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default
#   scram-sha-256), and *.sql / *.sh files in /docker-entrypoint-initdb.d on first start.
# Every POSTGRES_* variable also accepts a *_FILE form (Swarm secrets live in /run/secrets).
set -Eeuo pipefail

log() { printf 'entrypoint: %s\n' "$*" >&2; }

# file_env VAR [DEFAULT]: export VAR from $VAR, else from the file named by $VAR_FILE, else DEFAULT.
file_env() {
  local var=$1 fvar="${1}_FILE" val=${2:-}
  if [[ -n ${!var:-} && -n ${!fvar:-} ]]; then
    log "both $var and $fvar are set (but are exclusive)"
    exit 1
  fi
  if [[ -n ${!var:-} ]]; then
    val=${!var}
  elif [[ -n ${!fvar:-} ]]; then
    val=$(<"${!fvar}")
  fi
  export "$var=$val"
  unset "$fvar"
}

init_cluster() {
  if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
    log 'database is uninitialized and POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) is not set'
    exit 1
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  local -a initdb=(initdb --username="$POSTGRES_USER" --auth-local=trust
    --auth-host="$POSTGRES_HOST_AUTH_METHOD" $POSTGRES_INITDB_ARGS)
  if [[ -n $POSTGRES_PASSWORD ]]; then
    "${initdb[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
  else
    "${initdb[@]}"
  fi
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # Unix socket only while we set things up, so no client can connect half-way through.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -t 60 start
  local -a psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password)
  if [[ $POSTGRES_DB != postgres ]]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh) log "running $f"; PGUSER=$POSTGRES_USER PGDATABASE=$POSTGRES_DB bash "$f" ;;
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *) [[ -e $f ]] && log "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  log 'initialisation complete'
}

if [[ ${1:-} == -* ]]; then
  set -- postgres "$@"
fi
if [[ ${1:-} != postgres ]]; then
  exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
file_env POSTGRES_PASSWORD
file_env POSTGRES_USER postgres
file_env POSTGRES_DB "$POSTGRES_USER"
file_env POSTGRES_INITDB_ARGS
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export POSTGRES_HOST_AUTH_METHOD

if [[ $(id -u) == 0 ]]; then
  # A fresh named volume is owned by root: hand it to postgres, then drop privileges. The *_FILE
  # secrets were read above, as root, so their file mode does not matter.
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  init_cluster
fi
unset POSTGRES_PASSWORD
exec "$@"
