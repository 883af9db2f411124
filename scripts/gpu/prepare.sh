#!/usr/bin/env bash
# Here, on a machine with the data (no GPU needed): everything a GPU machine without
# network needs to train and validate, under $GPU_DIR (default runs/gpu, git-ignored):
#   data/train.jsonl, data/dev.jsonl   Example records: prompts' schema text inline
#   data/database/                     the validation databases (0.35 MB), for execution accuracy
#   wheels/                            what the GPU image lacks (sqlglot, gguf)
#   base-1/, base-2/                   the offline base GGUF in two halves (one call carries 64 MiB)
# VALUE_HINTS=true renders both files with database values the questions name.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.venv/bin}
SPIDER=${SPIDER:-../shared/data/spider}
GPU_DIR=${GPU_DIR:-runs/gpu}
hints=()
[ "${VALUE_HINTS:-false}" = true ] && hints=(--value-hints)

rm -rf "$GPU_DIR/data" "$GPU_DIR/base-1" "$GPU_DIR/base-2"
mkdir -p "$GPU_DIR/data" "$GPU_DIR/wheels" "$GPU_DIR/base-1" "$GPU_DIR/base-2"
"$BIN/smolsql" data --data "$SPIDER/train.json" --out "$GPU_DIR/data/train.jsonl" "${hints[@]}"
"$BIN/smolsql" data --data "$SPIDER/dev.json" --out "$GPU_DIR/data/dev.jsonl" \
  --databases "$GPU_DIR/data/database" "${hints[@]}"

# Pure-Python wheels, the versions installed here.
for name in sqlglot gguf; do
  version=$("$BIN/python" -c "import importlib.metadata as m; print(m.version('$name'))")
  "$BIN/python" -m pip download -q --no-deps --only-binary=:all: --platform any \
    --python-version 3.12 -d "$GPU_DIR/wheels" "$name==$version"
done

gguf=$("$BIN/python" -c 'from smolsql.models import gguf_path; print(gguf_path())')
split -n 2 -d "$gguf" "$GPU_DIR/base-part-"
mv "$GPU_DIR/base-part-00" "$GPU_DIR/base-1/"
mv "$GPU_DIR/base-part-01" "$GPU_DIR/base-2/"
du -sh "$GPU_DIR"/*
