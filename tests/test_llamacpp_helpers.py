"""The llama.cpp backend's pure parts, tested without llama-cpp-python (installed or not).

Sampling, prompt lookup, the cache key of a converted model, the converter's extraction,
and the `auto` backend's fallback where llama-cpp-python is really absent.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from smolsql.backends import GenerationSettings
from smolsql.backends.gguf import converter_dir


def test_auto_falls_back_to_transformers_in_one_line(tiny_model_dir: Path) -> None:
    """With llama_cpp unimportable, as on a machine without smolsql[fast]."""
    script = (
        "import sys; sys.modules['llama_cpp'] = None; "
        "from smolsql.backends import GenerationSettings, load_backend; "
        f"b = load_backend({str(tiny_model_dir)!r}, 'auto', GenerationSettings(4)); "
        "print(type(b).__name__)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["TransformersBackend"]
    err = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "llama-cpp-python is not installed" in err[0]


def test_a_changed_adapter_is_a_new_model(tmp_path: Path) -> None:
    from smolsql.backends.gguf import _model_key
    from smolsql.models import ModelSpec

    (tmp_path / "adapter_model.safetensors").write_bytes(b"one")
    first = _model_key(ModelSpec("base", str(tmp_path)))
    (tmp_path / "adapter_model.safetensors").write_bytes(b"two")
    assert _model_key(ModelSpec("base", str(tmp_path))) != first
    assert _model_key(ModelSpec("other-base", str(tmp_path))) != _model_key(
        ModelSpec("base", str(tmp_path))
    )


def test_sampling_keeps_to_the_nucleus() -> None:
    import numpy as np

    from smolsql.backends.llamacpp import _sample

    logits = np.log(np.array([[0.6, 0.3, 0.05, 0.05] + [1e-9] * 300]))
    rng = np.random.default_rng(0)
    settings = GenerationSettings(temperature=1.0, top_p=0.8)
    drawn = {_sample(logits, settings, rng)[0] for _ in range(200)}
    assert drawn == {0, 1}  # 0.6 + 0.3 reaches 0.8; the tail is never drawn
    assert _sample(logits, replace(settings, temperature=0), rng) == [0]


@pytest.mark.parametrize(
    ("context", "k", "expected"),
    [
        ([1, 2, 3, 4, 9, 1, 2], 2, [3, 4]),  # the last two tokens seen before: what followed
        ([1, 2, 3, 1, 2, 5, 1, 2], 3, [5, 1, 2]),  # the latest earlier occurrence wins
        ([1, 2, 3, 4], 3, []),  # never seen before
        ([7, 7, 7], 2, [7]),
        ([1, 2, 3, 1, 2], 0, []),
    ],
)
def test_lookup(context: list[int], k: int, expected: list[int]) -> None:
    from smolsql.backends.llamacpp import _lookup

    assert _lookup(context, k) == expected


def test_the_converter_is_extracted_alone_and_inside_its_folder(
    tmp_path: Path, monkeypatch
) -> None:
    """Only the converter's files leave the source archive, and none lands outside its folder."""
    import io
    import tarfile

    archive = tmp_path / "llama_cpp_python-0.0.0.tar.gz"
    files = {
        "convert_hf_to_gguf.py": b"# the converter",
        "gguf-py/gguf/__init__.py": b"# its library",
        "gguf-py/../../escaped.py": b"# must not be written",
        "src/llama.cpp": b"// not needed",
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(f"llama_cpp_python-0.0.0/vendor/llama.cpp/{name}")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    monkeypatch.delenv("SMOLSQL_LLAMA_CPP_DIR", raising=False)
    monkeypatch.setenv("SMOLSQL_LLAMA_SDIST", str(archive))
    monkeypatch.setenv("SMOLSQL_CACHE", str(tmp_path / "cache"))

    folder = converter_dir()
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py"))
    assert (folder / "convert_hf_to_gguf.py").read_bytes() == b"# the converter"
    assert written == [
        str((folder / name).relative_to(tmp_path))
        for name in ("convert_hf_to_gguf.py", "gguf-py/gguf/__init__.py")
    ]
    assert not (folder / "src").exists()
