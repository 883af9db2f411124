#!/usr/bin/env bash
# Builds the image from ./Dockerfile and runs it for real: the API container (/healthz,
# /v1/sql, /v1/query with rows, 4xx for bad input), the app container (its page serves), a
# question answered with no network at all, and compose.yaml where a compose tool exists.
# Stops and removes everything it started. Prints the image size, the build time and each
# container's start-to-healthy time.
#
#   scripts/container-smoke.sh [--no-cache]
#
# The engine: docker when its daemon answers, else podman. Where neither runs it says so and
# exits 0 (a skip, like the PostgreSQL tests); a build or check that fails exits 1.
# Environment:
#   SMOLSQL_BASE_IMAGE  the base (default python:3.11-slim; where that cannot be pulled, a
#                       Debian bookworm base made here with debootstrap, kept for reruns)
#   SMOLSQL_IMAGE       the tag to build (default localhost/smolsql:smoke)
#   CONTAINERS_CONF     podman's settings (default scripts/containers.conf: runc, cgroupfs)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${SMOLSQL_IMAGE:-localhost/smolsql:smoke}
PUBLIC_BASE=python:3.11-slim
LOCAL_BASE=localhost/smolsql-base:bookworm
NO_CACHE=()
[ "${1:-}" = "--no-cache" ] && NO_CACHE=(--no-cache)

say() { echo "container-smoke: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  ENGINE=docker
elif command -v podman >/dev/null; then
  ENGINE=podman
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}
  podman info >/dev/null 2>&1 || fail "podman is installed but does not run: $(podman info 2>&1 | tail -1)"
else
  say "skipped: no container engine (no docker daemon, no podman)"
  exit 0
fi
say "engine: $ENGINE"

started=()
servers=()
cleanup() {
  for name in "${started[@]}"; do $ENGINE rm -f "$name" >/dev/null 2>&1 || true; done
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${data:-}" ] && rm -rf "$data"
  [ -n "${COMPOSE:-}" ] && $COMPOSE -p smolsql-smoke down >/dev/null 2>&1 || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
seconds_since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

# --- the base image -------------------------------------------------------------------------
make_local_base() {
  # Debian bookworm with Python 3.11, venv and headers: what python:3.11-slim offers the
  # Dockerfile. It trusts this machine's certificates and carries its pip certificate setting,
  # so pip inside the build reaches the registry the way pip does here.
  command -v debootstrap >/dev/null || fail "cannot pull $PUBLIC_BASE and debootstrap is missing"
  local root begin
  begin=$(now)
  root=$(mktemp -d /tmp/smolsql-base.XXXXXX)
  say "making $LOCAL_BASE with debootstrap (a few minutes, once)"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-dev,ca-certificates \
    bookworm "$root" http://deb.debian.org/debian >/dev/null || fail "debootstrap failed"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$root" update-ca-certificates >/dev/null 2>&1
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$root/etc/pip.conf"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | $ENGINE import -q --change 'CMD ["python3"]' - "$LOCAL_BASE" >/dev/null
  rm -rf "$root"
  say "made $LOCAL_BASE in $(seconds_since "$begin") s"
}

if [ -n "${SMOLSQL_BASE_IMAGE:-}" ]; then
  BASE=$SMOLSQL_BASE_IMAGE
elif $ENGINE image inspect "$PUBLIC_BASE" >/dev/null 2>&1 \
  || timeout 60 $ENGINE pull -q "$PUBLIC_BASE" >/dev/null 2>&1; then
  BASE=$PUBLIC_BASE
else
  say "cannot pull $PUBLIC_BASE; building from a local Debian base"
  $ENGINE image inspect "$LOCAL_BASE" >/dev/null 2>&1 || make_local_base
  BASE=$LOCAL_BASE
fi

# --- torch: this machine's own CPU wheel, when its pip has one -------------------------------
build_args=(--build-arg "BASE_IMAGE=$BASE")
links="${PIP_FIND_LINKS:-} $(python3 -m pip config get global.find-links 2>/dev/null || true)"
for dir in $links; do
  if compgen -G "$dir/torch-*+cpu-*.whl" >/dev/null; then
    # A fixed port keeps the build argument, and so the build cache, the same between runs.
    port=${SMOLSQL_WHEEL_PORT:-48710}
    python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$port" >/dev/null 2>&1 &
    servers+=($!)
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
    kill -0 "${servers[-1]}" 2>/dev/null || fail "cannot serve $dir on port $port (SMOLSQL_WHEEL_PORT)"
    build_args+=(--build-arg "TORCH_PIP_ARGS=--find-links http://127.0.0.1:$port/")
    say "torch from $dir (served to the build on 127.0.0.1:$port)"
    break
  fi
done

# --- build ----------------------------------------------------------------------------------
format=()
[ "$ENGINE" = podman ] && format=(--format docker)  # keeps HEALTHCHECK (OCI images drop it)
say "building $IMAGE from $BASE"
start=$(now)
$ENGINE build --network host "${format[@]}" "${NO_CACHE[@]}" "${build_args[@]}" -t "$IMAGE" . \
  > "${TMPDIR:-/tmp}/smolsql-container-build.log" 2>&1 \
  || { tail -30 "${TMPDIR:-/tmp}/smolsql-container-build.log" >&2; fail "build failed"; }
build_s=$(seconds_since "$start")
size_mb=$($ENGINE image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f", $1 / 1e6}')
say "built in ${build_s} s; image ${size_mb} MB"

# --- helpers --------------------------------------------------------------------------------
# Without systemd, podman 4 logs that it cannot set health-check timers (even with
# --health-interval disable); `podman healthcheck run` below needs none.
engine() { "$ENGINE" "$@" 2> >(grep -v "unable to get systemd connection" >&2); }

# Host networking: the same on docker and on podman where port publishing is unavailable.
run_container() {  # NAME PORT HEALTH_PATH [RUN OPTIONS... --] COMMAND...
  local name=$1 port=$2 path=$3 options=()
  shift 3
  if [[ " $* " == *" -- "* ]]; then
    while [ "$1" != -- ]; do options+=("$1"); shift; done
    shift
  fi
  started+=("$name")
  engine run -d --name "$name" --network host "${options[@]}" \
    -e "SMOLSQL_HEALTH_URL=http://127.0.0.1:$port$path" "$IMAGE" "$@" >/dev/null
}

healthy() {  # NAME: the image's own HEALTHCHECK, run now
  if [ "$ENGINE" = podman ]; then
    podman healthcheck run "$1" >/dev/null 2>&1
  else
    [ "$(docker inspect --format '{{.State.Health.Status}}' "$1")" = healthy ]
  fi
}

wait_healthy() {  # NAME: returns once healthy (fails after 180 s)
  local name=$1
  for _ in $(seq 360); do
    healthy "$name" && return
    [ "$($ENGINE inspect --format '{{.State.Running}}' "$name")" = true ] \
      || { $ENGINE logs "$name" 2>&1 | tail -20 >&2; fail "$name exited"; }
    sleep 0.5
  done
  $ENGINE logs "$name" 2>&1 | tail -20 >&2
  fail "$name not healthy after 180 s"
}

expect() {  # STATUS METHOD URL [JSON]: the body, when the status is the one expected
  local want=$1 method=$2 url=$3 data=${4:-} out code
  out=$(mktemp)
  if [ -n "$data" ]; then
    code=$(curl -s -o "$out" -w '%{http_code}' -X "$method" -H 'content-type: application/json' \
      --data "$data" "$url")
  else
    code=$(curl -s -o "$out" -w '%{http_code}' -X "$method" "$url")
  fi
  [ "$code" = "$want" ] || { cat "$out" >&2; rm -f "$out"; fail "$method $url: $code, expected $want"; }
  cat "$out"
  rm -f "$out"
}

field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

# --- the API --------------------------------------------------------------------------------
api_port=$(free_port)
api=smolsql-smoke-api-$$
data=$(mktemp -d /tmp/smolsql-smoke-data.XXXXXX)  # a database of the user's own, mounted
chmod 755 "$data"
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[2]).executescript(open(sys.argv[1]).read())' \
  src/smolsql/data/sample.sql "$data/shop.sqlite"
start=$(now)
run_container "$api" "$api_port" /healthz -v "$data:/data:ro" -- \
  smolsql serve --host 127.0.0.1 --port "$api_port" --db sample --db shop=/data/shop.sqlite
wait_healthy "$api"
api_healthy_s=$(seconds_since "$start")
api_url=http://127.0.0.1:$api_port
[ "$($ENGINE exec "$api" id -u)" != 0 ] || fail "the API runs as root"
expect 200 GET "$api_url/healthz" | field '["status"]' | grep -qx ok || fail "/healthz is not ok"
sql=$(expect 200 POST "$api_url/v1/sql" '{"question": "How many artists are there?", "database": "sample"}' | field '["sql"]')
echo "$sql" | grep -qi select || fail "/v1/sql answered no SELECT: $sql"
rows=$(expect 200 POST "$api_url/v1/query" '{"database": "sample", "sql": "SELECT name FROM artist ORDER BY name"}' | field '["rows"]')
[ "$rows" != "[]" ] || fail "/v1/query returned no rows"
expect 200 POST "$api_url/v1/query" '{"database": "sample", "question": "List every album title."}' | field '["columns"]' >/dev/null
count=$(expect 200 POST "$api_url/v1/query" '{"database": "shop", "sql": "SELECT COUNT(*) FROM album"}' | field '["rows"][0][0]')
[ "$count" -gt 0 ] || fail "the mounted database answered $count albums"
expect 400 POST "$api_url/v1/query" '{"database": "shop", "sql": "DROP TABLE artist"}' >/dev/null
expect 404 POST "$api_url/v1/sql" '{"question": "How many?", "database": "nope"}' >/dev/null
expect 422 POST "$api_url/v1/sql" '{"database": "sample"}' >/dev/null
say "API: healthy ${api_healthy_s} s after start; /v1/sql, /v1/query (the sample and a mounted database) and three bad requests answered as expected"

# --- the app --------------------------------------------------------------------------------
app_port=$(free_port)
app=smolsql-smoke-app-$$
start=$(now)
run_container "$app" "$app_port" /_stcore/health smolsql app --host 127.0.0.1 --port "$app_port"
wait_healthy "$app"
app_healthy_s=$(seconds_since "$start")
expect 200 GET "http://127.0.0.1:$app_port/" | grep -qi streamlit || fail "the app's page does not serve"
say "app: healthy ${app_healthy_s} s after start; its page serves"
engine rm -f "$api" "$app" >/dev/null

# --- offline: the model is in the image ------------------------------------------------------
answer=$($ENGINE run --rm --network none "$IMAGE" \
  smolsql ask "How many albums are there?" --db sample --run 2>&1) \
  || { echo "$answer" >&2; fail "ask without network failed"; }
echo "$answer" | grep -qi select || fail "ask without network printed no SQL: $answer"
say "offline: a question answered and run with --network none"

# --- compose --------------------------------------------------------------------------------
compose_skip="no docker compose or podman-compose"
if [ "$ENGINE" = docker ] && docker compose version >/dev/null 2>&1; then
  COMPOSE="docker compose"
elif [ "$ENGINE" = podman ]; then
  # The project's dev tools carry a recent podman-compose (Debian 12's 1.0.3 adds a network
  # to host-network services, which podman refuses, and still exits 0).
  for tool in .venv/bin/podman-compose "$(command -v podman-compose || true)"; do
    [ -x "$tool" ] || continue
    version=$("$tool" --version 2>/dev/null | awk '/podman-compose/ {print $NF}')
    if python3 -c "import sys; sys.exit(tuple(map(int, sys.argv[1].split('.')[:2])) < (1, 1))" \
      "${version:-0.0}"; then
      COMPOSE=$tool
      break
    fi
    compose_skip="podman-compose $version is older than 1.1"
  done
fi
if [ -n "${COMPOSE:-}" ]; then
  export SMOLSQL_IMAGE=$IMAGE
  [ "$ENGINE" = podman ] && export SMOLSQL_NETWORK=host  # docker publishes the ports
  mkdir -p data  # compose mounts ./data
  SMOLSQL_API_PORT=$(free_port) SMOLSQL_APP_PORT=$(free_port)
  export SMOLSQL_API_PORT SMOLSQL_APP_PORT
  $COMPOSE -p smolsql-smoke up -d >/dev/null 2>&1 || fail "$COMPOSE up failed"
  for _ in $(seq 120); do
    curl -sf "http://127.0.0.1:$SMOLSQL_API_PORT/healthz" >/dev/null \
      && curl -sf "http://127.0.0.1:$SMOLSQL_APP_PORT/_stcore/health" >/dev/null && break
    sleep 1
  done
  expect 200 GET "http://127.0.0.1:$SMOLSQL_API_PORT/healthz" >/dev/null
  expect 200 GET "http://127.0.0.1:$SMOLSQL_APP_PORT/" | grep -qi streamlit || fail "compose: no app page"
  $COMPOSE -p smolsql-smoke down >/dev/null 2>&1
  COMPOSE=""
  say "compose: API and app up together, then down"
else
  say "compose: skipped ($compose_skip)"
fi

left=$($ENGINE ps -q --filter name=smolsql-smoke)
[ -z "$left" ] || fail "containers left running: $left"
echo "image $IMAGE (base $BASE, $ENGINE): ${size_mb} MB, built in ${build_s} s;" \
  "start to healthy: API ${api_healthy_s} s, app ${app_healthy_s} s"
