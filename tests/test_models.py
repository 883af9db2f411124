from __future__ import annotations

import json
from pathlib import Path

import pytest

from smolsql.errors import SmolsqlError
from smolsql.models import BUNDLED_ADAPTER, OFFLINE_BASE, ModelSpec, resolve_model


def test_resolution(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "config.json").write_text("{}")
    (tmp_path / "lora").mkdir()
    (tmp_path / "lora" / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": OFFLINE_BASE})
    )
    assert resolve_model(str(tmp_path / "full")) == ModelSpec(str(tmp_path / "full"))
    assert resolve_model(str(tmp_path / "lora")) == ModelSpec(OFFLINE_BASE, str(tmp_path / "lora"))
    assert resolve_model("HuggingFaceTB/SmolLM2-135M") == ModelSpec("HuggingFaceTB/SmolLM2-135M")
    assert resolve_model(None) == ModelSpec(OFFLINE_BASE, str(BUNDLED_ADAPTER))  # the shipped one


@pytest.mark.parametrize(
    ("name", "message"),
    [("no-such-model", "unknown model"), ("a/b/c", "unknown model"), ("./nope", "unknown model")],
)
def test_unknown_models_are_clear_errors(name: str, message: str) -> None:
    with pytest.raises(SmolsqlError, match=message):
        resolve_model(name)


def test_folder_without_a_model(tmp_path: Path) -> None:
    with pytest.raises(SmolsqlError, match="holds no model"):
        resolve_model(str(tmp_path))
    (tmp_path / "f.bin").write_bytes(b"x")
    with pytest.raises(SmolsqlError, match="is a file"):
        resolve_model(str(tmp_path / "f.bin"))
