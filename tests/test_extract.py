"""A full fine-tune turned into a LoRA adapter by SVD, on the tiny random Llama."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from smolsql.errors import SmolsqlError
from smolsql.models import ModelSpec, load_model
from smolsql.train.extract import extract_lora


@pytest.fixture(scope="module")
def tuned_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model 'fully fine-tuned': every linear layer and one norm changed."""
    model = load_model(ModelSpec(str(tiny_model_dir)))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("proj.weight"):
                param += 0.01 * torch.randn(param.shape, generator=generator)
        model.model.norm.weight += 0.5
    folder = tmp_path_factory.mktemp("tuned")
    model.save_pretrained(folder)
    (folder / "smolsql.json").write_text('{"solved_examples": 3}')  # as training writes it
    return folder


def linear_weights(model) -> dict[str, torch.Tensor]:
    return {n: p for n, p in model.state_dict().items() if n.endswith("proj.weight")}


def test_full_rank_reproduces_the_fine_tune(tiny_model_dir, tuned_dir, tmp_path) -> None:
    base = ModelSpec(str(tiny_model_dir))
    full = max(p.shape[0] for p in linear_weights(load_model(base)).values())
    report = extract_lora(base, tuned_dir, tmp_path / "full", full, dtype="float32")
    assert (tmp_path / "full" / "smolsql.json").read_text() == '{"solved_examples": 3}'
    assert report.kept_energy == pytest.approx(1.0) and report.worst_layer_error < 1e-5
    assert list(report.whole) == ["model.norm.weight"] and not report.not_kept
    merged_model = load_model(ModelSpec(str(tiny_model_dir), str(tmp_path / "full")))
    tuned_model = load_model(ModelSpec(str(tuned_dir)))
    merged, tuned = linear_weights(merged_model), linear_weights(tuned_model)
    assert merged.keys() == tuned.keys()
    for name, weight in tuned.items():
        torch.testing.assert_close(merged[name], weight, atol=1e-5, rtol=0)
    torch.testing.assert_close(merged_model.model.norm.weight, tuned_model.model.norm.weight)


def test_norms_can_be_left_out_and_are_then_named(tiny_model_dir, tuned_dir, tmp_path) -> None:
    base = ModelSpec(str(tiny_model_dir))
    report = extract_lora(base, tuned_dir, tmp_path / "linear", 4, norms=False)
    assert list(report.not_kept) == ["model.norm.weight"] and not report.whole
    merged = load_model(ModelSpec(str(tiny_model_dir), str(tmp_path / "linear")))
    torch.testing.assert_close(merged.model.norm.weight, load_model(base).model.norm.weight)


def test_lower_ranks_keep_less(tiny_model_dir, tuned_dir, tmp_path) -> None:
    base = ModelSpec(str(tiny_model_dir))
    low = extract_lora(base, tuned_dir, tmp_path / "r2", 2)
    high = extract_lora(base, tuned_dir, tmp_path / "r8", 8)
    assert 0 < low.kept_energy < high.kept_energy < 1
    assert low.worst_layer_error > high.worst_layer_error > 0
    assert (tmp_path / "r2" / "extraction.json").exists()
    with pytest.raises(SmolsqlError, match="not empty"):
        extract_lora(base, tuned_dir, tmp_path / "r2", 2)
    with pytest.raises(SmolsqlError, match="does not differ"):
        extract_lora(base, tiny_model_dir, tmp_path / "same", 2)
