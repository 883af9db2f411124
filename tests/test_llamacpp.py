"""The llama.cpp backend on a tiny model converted to GGUF by llama.cpp's own converter."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (smolsql[fast])")

from dataclasses import replace

from smolsql.backends import GenerationSettings
from smolsql.backends.gguf import converter_dir, gguf_file
from smolsql.backends.llamacpp import LlamaCppBackend
from smolsql.backends.transformers import TransformersBackend
from smolsql.models import resolve_model
from smolsql.prompt import build_prompt

SCHEMAS = ("CREATE TABLE artist (id INT, name TEXT);", "CREATE TABLE song (id INT, title TEXT);")
PROMPTS = [build_prompt(q, s) for s in SCHEMAS for q in ("How many?", "List all names please")]
SETTINGS = GenerationSettings(max_new_tokens=12, batch_size=1)


@pytest.fixture(scope="session")
def tiny_llama(tiny_gguf: Path) -> LlamaCppBackend:
    return LlamaCppBackend(tiny_gguf, settings=SETTINGS)


def test_greedy_output_matches_transformers(tiny_model_dir: Path, tiny_llama) -> None:
    reference = TransformersBackend.from_spec(resolve_model(str(tiny_model_dir)), SETTINGS)
    expected = reference.generate(PROMPTS)
    assert tiny_llama.generate(PROMPTS) == expected
    assert any(expected)  # random weights, but they do say something
    assert tiny_llama.count_tokens(PROMPTS[0]) == reference.count_tokens(PROMPTS[0])


def test_prefix_cache_gives_the_same_output_as_none(tiny_gguf: Path) -> None:
    cached = LlamaCppBackend(tiny_gguf, settings=replace(SETTINGS, prefix_cache=1))
    uncached = LlamaCppBackend(tiny_gguf, settings=replace(SETTINGS, prefix_cache=0))
    # Interleaved schemas, one at a time: the state of each is saved, evicted, computed again.
    order = [PROMPTS[0], PROMPTS[2], PROMPTS[1], PROMPTS[3], PROMPTS[0]]
    got = [cached.generate([p])[0] for p in order]
    assert got == [uncached.generate([p])[0] for p in order]
    assert cached.prefix_hits == 0  # with room for one, no alternate order hits
    wide = LlamaCppBackend(tiny_gguf, settings=replace(SETTINGS, prefix_cache=4))
    assert [wide.generate([p])[0] for p in order] == got
    assert wide.prefix_hits == 3  # the three questions on a schema seen before


def test_converted_once_then_reused(tiny_model_dir: Path, tiny_gguf: Path, monkeypatch) -> None:
    import smolsql.backends.gguf as convert

    def fail(*args: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(convert, "_convert", fail)
    monkeypatch.setenv("SMOLSQL_CACHE", str(tiny_gguf.parents[2]))
    assert gguf_file(resolve_model(str(tiny_model_dir)), "f32") == tiny_gguf


def test_prompt_lookup_drafts_do_not_change_the_output(tiny_gguf: Path) -> None:
    plain = LlamaCppBackend(tiny_gguf, settings=GenerationSettings(max_new_tokens=24))
    drafting = LlamaCppBackend(tiny_gguf, settings=replace(plain.settings, lookahead=8))
    assert drafting.generate(PROMPTS) == plain.generate(PROMPTS)
    assert plain.drafted == 0 and drafting.drafted > 0


def test_parallel_candidates_are_well_formed_and_seeded(tiny_llama) -> None:
    greedy = tiny_llama.generate(PROMPTS)
    samples = tiny_llama.sample(PROMPTS, 6)
    assert [len(s) for s in samples] == [6] * len(PROMPTS)
    assert all(isinstance(t, str) and "<|im_end|>" not in t for s in samples for t in s)
    assert any(len(set(s)) > 1 for s in samples)  # sampled, not six copies
    assert tiny_llama.sample(PROMPTS, 6) == samples  # the same seed: the same candidates
    assert tiny_llama.sample(PROMPTS[::-1], 6) == samples[::-1]  # whatever came before
    other = LlamaCppBackend(tiny_llama.llm.model_path, settings=replace(SETTINGS, seed=1))
    assert other.sample(PROMPTS, 6) != samples
    # Greedy after sampling: the sampled sequences left nothing behind in the cache.
    assert tiny_llama.generate(PROMPTS) == greedy


def test_parallel_greedy_rows_equal_the_greedy_answer(tiny_gguf: Path, tiny_llama) -> None:
    """At temperature 0 every parallel sequence must be today's one-sequence greedy answer."""
    greedy = tiny_llama.generate(PROMPTS)
    parallel = LlamaCppBackend(tiny_gguf, settings=replace(SETTINGS, temperature=0))
    assert parallel.sample(PROMPTS, 4) == [[g] * 4 for g in greedy]


def test_scores_match_transformers_and_do_not_depend_on_the_company(
    tiny_model_dir: Path, tiny_llama
) -> None:
    reference = TransformersBackend.from_spec(resolve_model(str(tiny_model_dir)), SETTINGS)
    greedy = tiny_llama.generate(PROMPTS[:1])[0]
    texts = [greedy, "SELECT count(*) FROM artist", "SELECT name FROM artist WHERE id = 1"]
    scores = tiny_llama.score(PROMPTS[0], texts)
    assert scores == pytest.approx(reference.score(PROMPTS[0], texts), abs=1e-3)
    assert all(s < 0 for s in scores) and len(set(scores)) == 3
    # Each alone, and among more than one batch of parallel sequences holds: the same.
    assert [tiny_llama.score(PROMPTS[0], [t])[0] for t in texts] == pytest.approx(scores)
    many = tiny_llama.score(PROMPTS[0], texts * 14)
    assert many == pytest.approx(scores * 14, abs=1e-5)
    # Scoring left nothing behind: greedy answers are as before.
    assert tiny_llama.generate(PROMPTS[:1]) == [greedy]


def test_a_quantized_type_is_made_from_f16_in_one_go(tiny_gguf: Path, tiny_model_dir, monkeypatch):
    """q4_k_m needs the F16 file first; making both from nothing must not wait on itself."""
    monkeypatch.setenv("SMOLSQL_LLAMA_CPP_DIR", str(converter_dir()))
    monkeypatch.setenv("SMOLSQL_CACHE", str(tiny_gguf.parents[3] / "fresh-cache"))
    path = gguf_file(resolve_model(str(tiny_model_dir)), "q5_k_m")
    assert path.name == "model-q5_k_m.gguf" and path.with_name("model-f16.gguf").exists()
    assert len(LlamaCppBackend(path, settings=SETTINGS).generate(PROMPTS[:1])) == 1  # it loads
