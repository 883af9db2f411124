#!/usr/bin/env bash
# On the GPU machine (torch, transformers, peft, accelerate; no network), from the repo root,
# after scripts/gpu/prepare.sh here. Two calls while the machine is held, since one call
# carries at most 64 MiB and the base is 98 MB:
#   bash scripts/gpu/device.sh stage            carry: runs/gpu/base-1
#   bash scripts/gpu/device.sh train [FLAGS]    carry: runs/gpu/base-2 runs/gpu/data runs/gpu/wheels
# `train` runs `smolsql train --config configs/spider-gpu.yaml FLAGS` with validation
# execution accuracy after each epoch, then leaves in $OUT (what comes back): metrics.jsonl,
# train_summary.json, config.yaml and the adapters (final/, and best/: the epoch with the
# best validation execution accuracy) as a tar in pieces of 15 MB at most.
# Bring them back with scripts/gpu/collect.sh. The same script runs on a CPU (tests do).
set -euo pipefail
cd "$(dirname "$0")/../.."
GPU_DIR=${GPU_DIR:-runs/gpu}
STAGE=${SMOLSQL_GPU_STAGE:-/tmp/smolsql-gpu}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$GPU_DIR/out}

case "${1:-}" in
  stage)
    mkdir -p "$STAGE"
    cp "$GPU_DIR"/base-1/base-part-* "$STAGE"/
    ls -l "$STAGE"
    ;;
  train)
    shift
    [ -f "$STAGE/base-part-00" ] || { echo "run 'device.sh stage' first (base-1)" >&2; exit 2; }
    cp "$GPU_DIR"/base-2/base-part-* "$STAGE"/
    cat "$STAGE"/base-part-* > "$STAGE/base.gguf"
    if compgen -G "$GPU_DIR/wheels/*.whl" >/dev/null; then
      "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$STAGE/site" \
        --upgrade "$GPU_DIR"/wheels/*.whl
    fi
    export PYTHONPATH="$PWD/src:$STAGE/site${PYTHONPATH:+:$PYTHONPATH}"
    export SMOLSQL_BASE_GGUF="$STAGE/base.gguf" SMOLSQL_CACHE="$STAGE/cache"
    rm -rf "$STAGE/run"
    "$PYTHON" -m smolsql.cli train --config configs/spider-gpu.yaml \
      --data "$GPU_DIR/data/train.jsonl" --execution-eval "$GPU_DIR/data/dev.jsonl" \
      --output-dir "$STAGE/run" "$@"
    mkdir -p "$OUT"
    cp "$STAGE/run/metrics.jsonl" "$STAGE/run/train_summary.json" "$STAGE/run/config.yaml" "$OUT"/
    kept=(final); [ -d "$STAGE/run/best" ] && kept+=(best)
    tar -C "$STAGE/run" -cf - "${kept[@]}" | split -b 15M -d - "$OUT/adapter.tar.part-"
    grep eval_execution_accuracy "$OUT/metrics.jsonl" || true
    ;;
  *)
    echo "usage: device.sh stage | train [smolsql train flags]" >&2
    exit 2
    ;;
esac
