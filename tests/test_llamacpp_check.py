"""The llama.cpp check, run for real: a child answers, or its crash becomes one line.

Making llama.cpp crash for real on a CPU that runs it: the child runs under qemu's user-mode
emulation of a CPU without AVX (Nehalem), where the library compiled for this machine dies
with SIGILL, as a default build dies on an Intel AMX CPU. CI installs qemu-user; elsewhere
those tests skip, saying so.
"""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (smolsql[fast])")

from smolsql.backends import load_backend
from smolsql.backends.check import _failure, check_llamacpp, run_check
from smolsql.backends.transformers import TransformersBackend
from smolsql.cli import main
from smolsql.errors import SmolsqlError

OLDER_CPU = "qemu-x86_64 -cpu Nehalem"
requires_qemu = pytest.mark.skipif(
    platform.machine() != "x86_64" or not shutil.which("qemu-x86_64"),
    reason="qemu-x86_64 (Debian's qemu-user) is not installed: the crash is not run",
)


@pytest.fixture
def cache(tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The session's cache (its converter and tiny GGUF), served as F32 like tiny_gguf."""
    folder = tiny_gguf.parents[2]
    monkeypatch.setenv("SMOLSQL_CACHE", str(folder))
    monkeypatch.setenv("SMOLSQL_GGUF_TYPE", "f32")
    monkeypatch.delenv("SMOLSQL_LLAMACPP_CHECK_UNDER", raising=False)
    shutil.rmtree(folder / "checks", ignore_errors=True)
    return folder


def test_the_check_answers_one_prompt_and_is_remembered(tiny_gguf: Path, cache: Path) -> None:
    verdict = check_llamacpp(tiny_gguf)
    assert verdict.ok and verdict.reason == ""
    assert "CPU" in verdict.system_info  # llama.cpp's own account of its build
    records = list((cache / "checks").glob("llamacpp-*.json"))
    assert len(records) == 1 and json.loads(records[0].read_text())["ok"] is True
    again = check_llamacpp(tiny_gguf)
    assert again == verdict  # read back, not run again (the same time stamp and seconds)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="AMX is an x86-64 matter")
def test_the_library_make_setup_built_holds_no_amx_kernels(tiny_gguf: Path, cache: Path) -> None:
    verdict = check_llamacpp(tiny_gguf)
    assert "AMX_INT8 = 0" in verdict.system_info or "AMX" not in verdict.system_info
    assert not verdict.amx_kernels


def test_a_file_llama_cpp_cannot_load_is_a_failed_verdict(tmp_path: Path, cache: Path) -> None:
    broken = tmp_path / "model-f32.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)  # the magic, then nothing a loader can read
    verdict = run_check(broken)
    assert not verdict.ok
    assert verdict.reason.startswith("llama.cpp failed on one prompt: ")


@pytest.mark.parametrize(
    ("returncode", "stderr", "expected"),
    [
        (-4, "", "died with SIGILL (illegal instruction)"),  # killed by the signal
        (132, "qemu: uncaught target signal 4", "died with SIGILL"),  # as a wrapper reports it
        (-11, "", "died with SIGSEGV"),
        (1, "Traceback ...\nValueError: Failed to load model\n", "ValueError: Failed to load"),
        (3, "", "exit 3"),
    ],
)
def test_each_way_a_child_ends_is_one_line(returncode: int, stderr: str, expected: str) -> None:
    line = _failure(returncode, stderr)
    assert expected in line and "\n" not in line


@requires_qemu
def test_a_crash_is_a_message_and_auto_falls_back_to_transformers(
    tiny_model_dir: Path, tiny_gguf: Path, cache: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SMOLSQL_LLAMACPP_CHECK_UNDER", OLDER_CPU)
    verdict = check_llamacpp(tiny_gguf)
    assert not verdict.ok and "SIGILL" in verdict.reason and "make setup" in verdict.reason

    backend = load_backend(str(tiny_model_dir), "auto")
    assert isinstance(backend, TransformersBackend)
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "SIGILL" in said[0] and "transformers" in said[0]

    with pytest.raises(SmolsqlError, match="SIGILL"):  # asked for by name: an error, no crash
        load_backend(str(tiny_model_dir), "llamacpp")

    monkeypatch.delenv("SMOLSQL_LLAMACPP_CHECK_UNDER")  # this CPU again: its own verdict
    assert check_llamacpp(tiny_gguf).ok


def test_doctor_reports_each_part_and_runs_the_check(
    tiny_model_dir: Path, cache: Path, capsys
) -> None:
    status = main(["doctor", "--model", str(tiny_model_dir), "--json"])
    findings = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert list(findings) == ["cpu", "llama.cpp", "torch", "model cache"]
    assert findings["llama.cpp"]["ok"], findings["llama.cpp"]
    assert "answered in" in findings["llama.cpp"]["detail"]
    assert "GFLOP/s" in findings["torch"]["detail"]
    assert str(cache) in findings["model cache"]["detail"]
    # The offline base is not needed by the tiny model; its package may be missing in a slim
    # install, which fails that one finding and nothing else.
    assert status == (0 if all(f["ok"] for f in findings.values()) else 1)


@requires_qemu
def test_doctor_fails_where_llama_cpp_crashes(
    tiny_model_dir: Path, cache: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SMOLSQL_LLAMACPP_CHECK_UNDER", OLDER_CPU)
    assert main(["doctor", "--model", str(tiny_model_dir)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  llama.cpp" in out and "fix: llama.cpp died with SIGILL" in out


def test_a_check_that_cannot_start_is_not_remembered(tiny_gguf: Path, cache: Path, monkeypatch):
    monkeypatch.setenv("SMOLSQL_LLAMACPP_CHECK_UNDER", "/nonexistent/emulator")
    verdict = check_llamacpp(tiny_gguf)
    assert not verdict.ok and verdict.reason.startswith("cannot run the llama.cpp check")
    assert not list((cache / "checks").glob("*.json"))  # it may pass next time: asked again


def test_the_verdict_is_kept_by_content_not_by_time_stamps(tmp_path: Path, monkeypatch) -> None:
    import os

    from smolsql.backends.check import _key

    libraries = tmp_path / "lib"
    libraries.mkdir()
    (libraries / "libllama.so").write_bytes(b"one build")
    (libraries / "libllama.so.0").write_bytes(b"its versioned copy, not read")
    gguf = tmp_path / "model-q8_0.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setenv("LLAMA_CPP_LIB_PATH", str(libraries))
    first = _key(gguf)
    for path in (libraries / "libllama.so", gguf):
        os.utime(path, (1, 1))  # an image's copy: the same files, other times
    assert _key(gguf) == first
    (libraries / "libllama.so").write_bytes(b"another build")
    assert _key(gguf) != first
