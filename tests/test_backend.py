"""The transformers backend on a tiny random Llama with SmolLM2's real tokenizer."""

from __future__ import annotations

from pathlib import Path

from smolsql.backends import Backend, GenerationOptions
from smolsql.backends.transformers import TransformersBackend
from smolsql.models import resolve_model
from smolsql.prompt import build_prompt


def test_tiny_model_generates_in_order_and_stops(tiny_model_dir: Path) -> None:
    spec = resolve_model(str(tiny_model_dir))
    batched = TransformersBackend.from_spec(spec, GenerationOptions(max_new_tokens=6, batch_size=4))
    single = TransformersBackend(batched.model, batched.tokenizer, options=GenerationOptions(6, 1))
    assert isinstance(batched, Backend)
    prompts = [
        build_prompt(q, "CREATE TABLE t (a INT);") for q in ("a?", "a much longer question?", "b")
    ]
    out = batched.generate(prompts)
    assert len(out) == 3 and all(isinstance(o, str) for o in out)
    # Batching with left padding and sorting by length must not change or reorder answers.
    assert out == single.generate(prompts)
    n_tokens = [len(batched.tokenizer(o, add_special_tokens=False)["input_ids"]) for o in out]
    assert max(n_tokens) <= 6
    assert "<|im_end|>" in batched.tokenizer.convert_ids_to_tokens(batched.stop_ids)
