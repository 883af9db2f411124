#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on loopback for the tests and prints its URL.
# Needs Debian's postgresql package (.ci/run installs it). Usage:
#   export SMOLSQL_TEST_POSTGRES_URL=$(scripts/start-postgres.sh)
# Stop it with: pg_ctl -D "$PGDATA_DIR" stop (its data folder; a new temporary one by default).
set -euo pipefail
# A free port unless PGPORT names one: a server left running elsewhere must not stop us.
PORT=${PGPORT:-$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 1; }
data=${PGDATA_DIR:-$(mktemp -d /tmp/smolsql-pg.XXXXXX)}
mkdir -p "$data"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$data"
as_pg "$bin/initdb" -D "$data" -U smolsql --auth=trust >/dev/null
as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $data" start >/dev/null
echo "postgresql://smolsql@127.0.0.1:$PORT/postgres"
