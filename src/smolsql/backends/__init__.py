"""Generation backends behind one protocol (`Backend.generate(prompts) -> completions`).

Heavy libraries are imported only by the backend that needs them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import TYPE_CHECKING

from smolsql.backends.base import Backend, Declared, GenerationSettings
from smolsql.errors import SmolsqlError

if TYPE_CHECKING:
    from smolsql.models import ModelSpec

__all__ = ["BACKENDS", "Backend", "GenerationSettings", "fastest_available", "load_backend"]

BACKENDS = ("llamacpp", "transformers", "openai")
"""Fastest first: `auto` takes the first one installed."""


def fastest_available() -> str:
    """llama.cpp when llama-cpp-python is installed, else transformers."""
    return "llamacpp" if importlib.util.find_spec("llama_cpp") else "transformers"


def load_backend(
    model: str | None = None, kind: str = "auto", settings: GenerationSettings | None = None
) -> Backend:
    """Load `model` (see `smolsql.models.resolve_model`) with the backend `kind`.

    `module:factory` calls your own `factory(model, settings)`.
    `auto` prefers llama.cpp and says so in one line when it falls back to transformers.
    `openai` takes its endpoint from the environment (see `OpenAIBackend.from_env`).
    """
    if ":" in kind:
        return _from_factory(kind, model, settings or GenerationSettings())
    if kind not in ("auto", *BACKENDS):
        choices = f"auto, {', '.join(BACKENDS)}, or module:factory"
        raise SmolsqlError(f"unknown backend {kind!r}; choose from: {choices}")
    if kind == "openai":
        from smolsql.backends.openai import OpenAIBackend

        return OpenAIBackend.from_env(model, settings)

    from smolsql.models import resolve_model

    spec = resolve_model(model)
    if kind == "auto":
        kind = fastest_available()
        if kind == "transformers":
            print(
                "smolsql: llama-cpp-python is not installed, using the slower transformers "
                "backend (pip install 'smolsql[fast]')",
                file=sys.stderr,
            )
        else:
            try:
                return _llamacpp(spec, settings)
            except SmolsqlError as exc:
                print(f"smolsql: {exc}; using the transformers backend", file=sys.stderr)
                kind = "transformers"
    if kind == "llamacpp":
        if not importlib.util.find_spec("llama_cpp"):
            raise SmolsqlError(
                "the llamacpp backend needs llama-cpp-python: pip install 'smolsql[fast]'"
            )
        return _llamacpp(spec, settings)
    from smolsql.backends.transformers import TransformersBackend

    return TransformersBackend.from_spec(spec, settings)


def _llamacpp(spec: ModelSpec, settings: GenerationSettings | None) -> Backend:
    from smolsql.backends.llamacpp import LlamaCppBackend

    return LlamaCppBackend.from_spec(spec, settings)


def _from_factory(spec: str, model: str | None, settings: GenerationSettings) -> Backend:
    module_name, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise SmolsqlError(f"cannot import backend {spec!r}") from None
    backend = factory(model, settings)
    return backend if isinstance(backend, Backend) else Declared(backend)
