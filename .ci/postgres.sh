#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on a free loopback port.
#   .ci/postgres.sh COMMAND...   exports TARIFFS_TEST_POSTGRES_URL for COMMAND, then stops it.
# Installs PostgreSQL from Debian's packages when it is missing and we are root. initdb refuses
# to run as root, so the server runs as the 'postgres' system user.
set -euo pipefail

find_bin() {
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

bin=$(find_bin || true)
if [ -z "$bin" ] && [ "$(id -u)" = 0 ]; then
  echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(find_bin || true)
fi
if [ -z "$bin" ]; then
  echo "postgres.sh: no PostgreSQL server binaries found (install Debian's postgresql)" >&2
  exit 1
fi

run_as=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent postgres
  owner=postgres
  run_as=(runuser -u postgres --)
fi

dir=$(mktemp -d /tmp/tariffs-pg.XXXXXX)
chown "$owner" "$dir"
chmod 700 "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${run_as[@]}" "$bin/initdb" -D "$dir/data" -U tariffs --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U tariffs tariffs_test

export TARIFFS_TEST_POSTGRES_URL="postgresql://tariffs@127.0.0.1:$port/tariffs_test"
echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
