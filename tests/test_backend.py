"""The transformers backend on a tiny random Llama with SmolLM2's real tokenizer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conftest import requires_cuda

from smolsql.backends import GenerationSettings
from smolsql.backends.transformers import TransformersBackend
from smolsql.models import resolve_model
from smolsql.prompt import build_prompt


def test_tiny_model_generates_in_order_and_stops(tiny_model_dir: Path) -> None:
    spec = resolve_model(str(tiny_model_dir))
    batched = TransformersBackend.from_spec(spec, GenerationSettings(6, batch_size=4))
    single = TransformersBackend(batched.model, batched.tokenizer, "", GenerationSettings(6, 1))
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


def test_tiny_model_samples_seeded_candidates(tiny_model_dir: Path) -> None:
    spec = resolve_model(str(tiny_model_dir))
    backend = TransformersBackend.from_spec(spec, GenerationSettings(8, temperature=1.0))
    prompts = [build_prompt(q, "CREATE TABLE t (a INT);") for q in ("a?", "b?")]
    samples = backend.sample(prompts, 5)
    assert [len(s) for s in samples] == [5, 5]
    assert all(len(set(s)) > 1 for s in samples)  # sampled, not five copies
    assert backend.sample(prompts[::-1], 5) == samples[::-1]  # (seed, prompt) decide them
    backend.settings = replace(backend.settings, seed=7)
    assert backend.sample(prompts, 5) != samples
    backend.settings = replace(backend.settings, temperature=0.0)
    assert backend.sample(prompts, 2) == [[g, g] for g in backend.generate(prompts)]


@requires_cuda
def test_the_transformers_backend_runs_on_the_gpu(tiny_model_dir: Path) -> None:
    backend = TransformersBackend.from_spec(resolve_model(str(tiny_model_dir)))
    assert next(backend.model.parameters()).device.type == "cuda"
    prompt = build_prompt("How many?", "CREATE TABLE t (a INT);")
    assert backend.sample([prompt], 2) == backend.sample([prompt], 2)  # seeded on the GPU too


class GreedyOnly:
    """A factory's object that is no Backend: a name and `generate`, nothing else."""

    name = "greedy-only"

    def generate(self, prompts):
        return ["SELECT name FROM ghosts" for _ in prompts]


def greedy_only(model, settings):
    return GreedyOnly()


class Scoring(GreedyOnly):
    """One that also says how likely it finds completions: the shorter, the likelier."""

    def score(self, prompt, completions):
        return [-len(text) / 100 for text in completions]


def scoring(model, settings):
    return Scoring()


def test_a_factorys_scores_are_declared_and_pass_through_the_apis_wrapper() -> None:
    from smolsql.backends import load_backend
    from smolsql.serve.service import Serialized

    declared = load_backend(None, "test_backend:scoring")
    for backend in (declared, Serialized(declared)):
        assert backend.can_score
        assert backend.score("prompt", ["SELECT 1", "SELECT 10"]) == [-0.08, -0.09]


def test_a_factorys_object_is_declared_once_and_stays_greedy(sample_db: Path) -> None:
    from smolsql.ask import ask
    from smolsql.backends import load_backend
    from smolsql.choose import ChoiceSettings
    from smolsql.db import open_database
    from smolsql.schema import approx_tokens
    from smolsql.serve.service import Serialized

    backend = load_backend(None, "test_backend:greedy_only", GenerationSettings())
    assert (backend.name, backend.can_sample) == ("greedy-only", False)
    assert backend.count_tokens("SELECT 1") == approx_tokens("SELECT 1")  # no tokenizer here
    assert Serialized(backend).can_sample is False  # the API's wrapper declares the same
    assert backend.can_score is False and Serialized(backend).can_score is False
    with open_database(sample_db) as db:
        answer = ask(backend, "any ghosts?", db.schema(), db, choice=ChoiceSettings(8))
    assert [c.status for c in answer.prediction.candidates] == ["failed"]  # greedy, no samples
