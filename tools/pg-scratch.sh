#!/usr/bin/env bash
# A scratch PostgreSQL cluster for the tests and drills of `kstore ship` (ship.md): Debian's
# PostgreSQL binaries, a cluster in a directory of its own, listening on 127.0.0.1 only, with
# password (SCRAM) authentication. PostgreSQL refuses to run as root: as root the cluster belongs
# to the `postgres` user (created by Debian's package), otherwise to the calling user.
#
#   tools/pg-scratch.sh start DIR [PORT]   # prints the URL of a database `kstore` (user kstore)
#   tools/pg-scratch.sh stop DIR           # fast shutdown
#   tools/pg-scratch.sh restart DIR        # stop then start on the same port
#   tools/pg-scratch.sh kill DIR           # SIGKILL the postmaster (a crash)
#   tools/pg-scratch.sh destroy DIR        # stop at once and remove the cluster and DIR
#   tools/pg-scratch.sh url DIR            # the URL again
#   tools/pg-scratch.sh psql DIR [ARGS...] # psql as the superuser on the cluster
#
# The password is random per cluster and kept in DIR/password (mode 600); nothing here prints
# it but `url`, whose output is meant for the test that runs the cluster.
set -euo pipefail
cmd=${1:?usage: pg-scratch.sh start|stop|restart|kill|url|psql DIR}
dir=${2:?usage: pg-scratch.sh $cmd DIR}
bindir=""
for v in 17 16 15 14 13; do
  if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bindir="/usr/lib/postgresql/$v/bin"; break; fi
done
if [ -z "$bindir" ]; then
  echo "PostgreSQL's server is not installed (apt-get install postgresql; tools/setup.sh does it)" >&2
  exit 69
fi
owner=$(id -un)
run() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  run() { runuser -u postgres -- "$@"; }
fi
# As root the cluster lives in a directory of the postgres user's under /tmp (the server must
# reach it through every parent), named in DIR/cluster; otherwise in DIR itself.
cluster_dir() {
  if [ -f "$dir/cluster" ]; then cat "$dir/cluster"; return; fi
  if [ "$(id -u)" -eq 0 ]; then
    local c
    c=$(mktemp -d /tmp/kstore-pg-XXXXXX)
    chown postgres "$c"
    chmod 700 "$c"
    echo "$c" >"$dir/cluster"
    echo "$c"
  else
    echo "$dir" >"$dir/cluster"
    echo "$dir"
  fi
}
mkdir -p "$dir"
cdir=$(cluster_dir)
data="$cdir/data"
url() {
  local port password
  port=$(cat "$dir/port")
  password=$(cat "$dir/password")
  echo "postgresql://kstore:${password}@127.0.0.1:${port}/kstore?sslmode=disable"
}
start() {
  local port=${1:-}
  if [ ! -d "$data" ]; then
    if [ -z "$port" ]; then
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    fi
    echo "$port" >"$dir/port"
    (umask 077; python3 -c 'import secrets; print(secrets.token_hex(16))' >"$dir/password")
    (umask 077; cp "$dir/password" "$cdir/pwfile")
    chown "$owner" "$cdir/pwfile"
    run "$bindir/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$cdir/pwfile" \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 70; }
    rm -f "$cdir/pwfile"
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$cdir'
fsync = on
max_connections = 50
shared_buffers = 128MB
log_min_messages = warning
EOF
  fi
  run "$bindir/pg_ctl" -D "$data" -l "$cdir/server.log" -w -t 60 start >/dev/null
  port=$(cat "$dir/port")
  # The role and database the tests ship into (idempotent).
  PGPASSWORD=$(cat "$dir/password") "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -v pw="$(cat "$dir/password")" >/dev/null <<'EOF'
SELECT format('CREATE ROLE kstore LOGIN PASSWORD %L', :'pw') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kstore')\gexec
SELECT 'CREATE DATABASE kstore OWNER kstore' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'kstore')\gexec
EOF
  url
}
case "$cmd" in
  start) start "${3:-}" ;;
  stop) run "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null ;;
  restart)
    run "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
    start >/dev/null
    ;;
  kill)
    if [ -f "$data/postmaster.pid" ]; then kill -9 "$(head -1 "$data/postmaster.pid")" || true; fi
    ;;
  destroy)
    run "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$cdir" "$dir"
    ;;
  url) url ;;
  psql)
    shift 2
    PGPASSWORD=$(cat "$dir/password") "$bindir/psql" -h 127.0.0.1 -p "$(cat "$dir/port")" -U postgres -d kstore "$@"
    ;;
  *) echo "unknown command $cmd" >&2; exit 64 ;;
esac
