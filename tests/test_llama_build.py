"""How llama.cpp is compiled: one script, read by setup.sh and the Dockerfile, never with AMX.

No second CPU is at hand, so the flags are checked where they act: the compiler's own
predefined macros (llama.cpp compiles its AMX kernels only under __AMX_INT8__), and the
CMake options the portable image is built with.
"""

from __future__ import annotations

import platform
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "llama-cpp-build.sh"
x86 = pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 flags")


def cmake_args(target: str) -> dict[str, str]:
    done = subprocess.run(["sh", str(SCRIPT), target], capture_output=True, text=True, check=True)
    return dict(arg[2:].split("=", 1) for arg in shlex.split(done.stdout) if arg.startswith("-D"))


def macros(*flags: str) -> set[str]:
    """The macros the C compiler predefines for a Sapphire Rapids (AMX) target with `flags`."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    command = [cc, "-march=sapphirerapids", *flags, "-dM", "-E", "-x", "c", "-"]
    done = subprocess.run(command, input="", capture_output=True, text=True, check=True)
    return {line.split()[1] for line in done.stdout.splitlines() if line.startswith("#define")}


@x86
def test_the_native_build_compiles_no_amx_even_where_the_cpu_has_it() -> None:
    args = cmake_args("native")
    assert args["GGML_NATIVE"] == "ON"
    assert args["CMAKE_C_FLAGS"] == args["CMAKE_CXX_FLAGS"]
    assert "__AMX_INT8__" in macros()  # -march alone turns AMX on: what crashed
    kept = macros(*args["CMAKE_C_FLAGS"].split())
    assert not {m for m in kept if m.startswith("__AMX")}
    assert {"__AVX512F__", "__AVX512VNNI__", "__AVX512BF16__"} <= kept  # the rest stays in use


@x86
def test_the_portable_build_is_avx2_without_avx512_or_amx() -> None:
    args = cmake_args("portable")
    assert args["GGML_NATIVE"] == "OFF"  # no -march=native: the build host's CPU does not leak
    assert all(args[f"GGML_{level}"] == "ON" for level in ("AVX", "AVX2", "FMA", "F16C"))
    off = ("AVX512", "AVX_VNNI", "AMX_TILE", "AMX_INT8", "AMX_BF16")
    assert all(args[f"GGML_{name}"] == "OFF" for name in off)


@pytest.mark.parametrize("target", ["native", "portable"])
def test_both_leave_out_the_multimodal_library(target: str) -> None:
    assert cmake_args(target)["LLAVA_BUILD"] == "OFF"


@pytest.mark.parametrize(
    ("file", "target"), [("Dockerfile", "portable"), ("scripts/setup.sh", "native")]
)
def test_each_install_compiles_with_the_script_never_from_pips_cache(file: str, target: str):
    text = (ROOT / file).read_text()
    assert f"llama-cpp-build.sh {target}" in text
    # A cached wheel built with other flags (or on another CPU) has the same name.
    assert "--no-cache-dir --no-binary llama-cpp-python" in text


def test_an_unknown_target_is_refused() -> None:
    done = subprocess.run(["sh", str(SCRIPT), "fast"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr
