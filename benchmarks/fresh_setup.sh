#!/usr/bin/env bash
# A newcomer's first answer: `make demo` on a fresh clone with nothing cached (no pip cache,
# an empty SMOLSQL_CACHE), each output line stamped with the seconds since the start.
#
#   benchmarks/fresh_setup.sh [COMMIT] > benchmarks/results/fresh-setup/NAME.log
#
# COMMIT defaults to HEAD; the clone and its venv go to a temporary folder, removed after.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
commit=${1:-HEAD}
work=$(mktemp -d /tmp/smolsql-fresh.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/clone"
git -C "$work/clone" checkout -q "$commit"
echo "# $(git -C "$work/clone" log -1 --format='%h %s' | cut -c1-80)"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
start=$(date +%s)
set +e
(cd "$work/clone" && PIP_NO_CACHE_DIR=1 SMOLSQL_CACHE="$work/cache" make demo 2>&1) \
  | grep --line-buffered -v '^WARNING: Location' \
  | while IFS= read -r line; do echo "[$(($(date +%s) - start)) s] $line"; done
status=${PIPESTATUS[0]}
echo "# exit $status after $(($(date +%s) - start)) s"
exit "$status"
