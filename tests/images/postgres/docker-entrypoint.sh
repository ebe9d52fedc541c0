#!/usr/bin/env bash
# pare-test/postgres: a docker-library style entrypoint (trimmed) for Debian's
# PostgreSQL 15.
#
# As root: makes $PGDATA and the socket directory the postgres user's, then
# re-runs itself as postgres through gosu. As postgres: if $PGDATA holds no
# cluster, runs initdb (superuser postgres, password $POSTGRES_PASSWORD if
# set), writes pg_hba.conf (local socket: trust; TCP from 127.0.0.1/::1:
# scram-sha-256 with a password, else trust), runs
# /docker-entrypoint-initdb.d/*.sql and *.sh against a socket-only temporary
# server, stops it. Then execs postgres listening on 127.0.0.1 only, port
# $PGPORT (55432 here, so it never meets a PostgreSQL of the host under
# --network host).
set -Eeuo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${PGPORT:=55432}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_LISTEN_ADDRESSES:=127.0.0.1}"
export PGDATA PGPORT

log() { printf '%s [entrypoint] %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

# `postgres -x` or `-c ...`: arguments for postgres.
if [[ "${1:0:1}" == - ]]; then
  set -- postgres "$@"
fi

prepare_dirs() {
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 00700 "$PGDATA" || :
  chmod 03775 /var/run/postgresql || :
  if [[ "$(id -u)" == 0 ]]; then
    find "$PGDATA" \! -user postgres -exec chown postgres: '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres: '{}' +
  fi
}

init_cluster() {
  local auth=trust
  local -a args=(--username="$POSTGRES_USER" --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust)
  log "initialising a cluster in $PGDATA"
  if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then
    auth=scram-sha-256
    printf '%s\n' "$POSTGRES_PASSWORD" | initdb "${args[@]}" --auth-host="$auth" --pwfile=/dev/stdin >&2
  else
    log "WARNING: no POSTGRES_PASSWORD; TCP connections from 127.0.0.1 are trusted"
    initdb "${args[@]}" --auth-host="$auth" >&2
  fi
  {
    echo "# written by docker-entrypoint.sh"
    echo "local all all trust"
    echo "host all all 127.0.0.1/32 $auth"
    echo "host all all ::1/128 $auth"
  } >"$PGDATA/pg_hba.conf"

  local f psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --host /var/run/postgresql)
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p $PGPORT" start >&2
  if [[ "$POSTGRES_DB" != postgres ]]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >&2
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" >&2 ;;
      *.sh) log "running $f"; bash "$f" >&2 ;;
      *) [[ -e "$f" ]] && log "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >&2
  log "cluster ready"
}

if [[ "$1" == postgres ]]; then
  prepare_dirs
  if [[ "$(id -u)" == 0 ]]; then
    exec gosu postgres "${BASH_SOURCE[0]}" "$@"
  fi
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    init_cluster
  fi
  shift
  exec postgres -c listen_addresses="$POSTGRES_LISTEN_ADDRESSES" -c port="$PGPORT" "$@"
fi

exec "$@"
