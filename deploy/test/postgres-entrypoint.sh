#!/bin/sh
# Stand-in for the official postgres image's entrypoint, for deploy/test only: the
# subset compose.yaml uses (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGDATA).
set -eu
bin=/usr/lib/postgresql/15/bin
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp) && echo "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >"$pwfile"
  chown postgres "$pwfile"
  su postgres -c "$bin/initdb -D '$PGDATA' -U '$user' --pwfile='$pwfile' --auth-local=trust --auth-host=scram-sha-256" >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  su postgres -c "$bin/pg_ctl -D '$PGDATA' -o \"-c listen_addresses=''\" -w start" >/dev/null
  [ "$db" = postgres ] || su postgres -c "$bin/psql -U '$user' -d postgres -c 'CREATE DATABASE \"$db\"'" >/dev/null
  su postgres -c "$bin/pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null
fi
exec su postgres -c "exec $bin/postgres -D '$PGDATA' -c listen_addresses='*'"
