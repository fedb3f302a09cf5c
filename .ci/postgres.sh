#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the sweep tests (tests/core/sweeps/
# test_postgres.py), used by .ci/run and by the tests' own fixture alike:
#
#     bash .ci/postgres.sh start DIR   # prints the database URL on stdout
#     bash .ci/postgres.sh stop DIR    # stops the server and removes DIR
#
# DIR is an empty folder the caller made (mktemp -d); the cluster, its log and its
# socket live in it. Debian's `postgresql` package is installed when missing (root only:
# apt-get). PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user the package creates. Trust authentication on 127.0.0.1 only: the
# server is reachable from this machine alone and lives as long as the test run.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

bindir() {  # the folder of initdb/pg_ctl: Debian keeps them off PATH, per version
  # (a pg_ctl on PATH may be a lone symlink: take the folder it points into)
  local d=""
  if command -v pg_ctl >/dev/null; then
    d=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
  fi
  if [[ -z $d || ! -x $d/createdb ]]; then
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [[ -n $d && -x $d/initdb && -x $d/pg_ctl && -x $d/createdb ]] && echo "$d"
}

install_server() {
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed and installing it needs root (sudo apt-get install postgresql)"
  command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get to install it"
  echo "Installing PostgreSQL (Debian package postgresql) for the sweep tests" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    postgresql >&2 || die "apt-get install postgresql failed"
}

as_server_user() {  # run a command as the user the server may run as
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {  # a TCP port nobody listens on now (the kernel's choice)
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=$1 bin port
  [[ -d $dir ]] || die "no folder $dir"
  bin=$(bindir) || true
  if [[ -z $bin ]]; then
    install_server
    bin=$(bindir) || die "PostgreSQL installed, but no pg_ctl found under /usr/lib/postgresql"
  fi
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user to run the server as"
    chown postgres "$dir"
  fi
  chmod 700 "$dir"
  as_server_user "$bin/initdb" -D "$dir/data" -U bps --auth=trust -E UTF8 --no-sync \
    >"$dir/initdb.log" 2>&1 || { tail -n 5 "$dir/initdb.log" >&2; die "initdb failed"; }
  # fsync off: a test database that dies with the run need not survive a power cut.
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
         -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" \
         start >/dev/null 2>&1; then
      if ! as_server_user "$bin/createdb" -h "$dir" -p "$port" -U bps bps_test; then
        as_server_user "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
        die "the server started but createdb failed"
      fi
      echo "postgresql://bps@127.0.0.1:$port/bps_test"
      return
    fi
  done
  tail -n 5 "$dir/server.log" >&2 || true
  die "the server did not start (log: $dir/server.log)"
}

stop() {
  local dir=$1 bin
  [[ -d $dir ]] || return 0
  bin=$(bindir) || true
  if [[ -n $bin && -f $dir/data/postmaster.pid ]]; then
    as_server_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case ${1:-} in
  start) [[ $# -eq 2 ]] || die "usage: postgres.sh start DIR"; start "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: postgres.sh stop DIR"; stop "$2" ;;
  *) die "usage: postgres.sh start DIR | stop DIR" ;;
esac
