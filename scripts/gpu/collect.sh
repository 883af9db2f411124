#!/usr/bin/env bash
# Here: put the pieces scripts/gpu/device.sh left in $OUT back together.
#   bash scripts/gpu/collect.sh FETCHED_DIR RUN_DIR
# RUN_DIR gets metrics.jsonl, train_summary.json, config.yaml, final/ and best/ (adapters), to
# score in the served format: smolsql predict --model RUN_DIR/final --backend llamacpp ...
set -euo pipefail
fetched=${1:?usage: collect.sh FETCHED_DIR RUN_DIR}
run=${2:?usage: collect.sh FETCHED_DIR RUN_DIR}
mkdir -p "$run"
cp "$fetched"/metrics.jsonl "$fetched"/train_summary.json "$fetched"/config.yaml "$run"/
cat "$fetched"/adapter.tar.part-* | tar -xf - -C "$run"
ls -l "$run/final"
