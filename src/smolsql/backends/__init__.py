"""Generation backends behind one protocol (`Backend.generate(prompts) -> completions`).

Heavy libraries are imported only by the backend that needs them.
"""

from __future__ import annotations

from smolsql.backends.base import Backend, GenerationOptions
from smolsql.errors import SmolsqlError

__all__ = ["BACKENDS", "Backend", "GenerationOptions", "load_backend"]

BACKENDS = ("transformers",)


def load_backend(
    model: str | None = None, kind: str = "auto", options: GenerationOptions | None = None
) -> Backend:
    """Load `model` (see `smolsql.models.resolve_model`) with the backend `kind`."""
    from smolsql.models import resolve_model

    if kind not in ("auto", *BACKENDS):
        raise SmolsqlError(f"unknown backend {kind!r}; choose from: auto, {', '.join(BACKENDS)}")
    spec = resolve_model(model)
    from smolsql.backends.transformers import TransformersBackend

    return TransformersBackend.from_spec(spec, options)
