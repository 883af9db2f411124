"""`smolsql doctor`: what this machine is, and whether each part smolsql needs works here.

Each check is a small function of the model in use that returns a `Finding`; `CHECKS`
lists them in the order they print. A failed finding says what to do about it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from smolsql.errors import SmolsqlError
from smolsql.machine import FLAGS_THAT_MATTER, cpu_flags, cpu_has_amx, cpu_has_bf16, cpu_model


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    """What to do about it; empty when there is nothing to do."""


def check_cpu(model: str | None) -> Finding:
    """The CPU and the instructions llama.cpp's kernels and torch's bf16 matmuls use."""
    flags = cpu_flags()
    has = [f for f in FLAGS_THAT_MATTER if f in flags]
    lacks = [f for f in FLAGS_THAT_MATTER if f not in flags]
    detail = f"{cpu_model()}, {os.cpu_count()} cores: {' '.join(has) or 'no flags known'}"
    if lacks:
        detail += f" (not: {' '.join(lacks)})"
    fix = ""
    if cpu_has_amx():
        fix = "AMX: llama.cpp must be built without its AMX kernels, as `make setup` builds it"
    return Finding("cpu", True, detail, fix)


def check_llamacpp(model: str | None) -> Finding:
    """llama.cpp answers one real prompt on the model's GGUF, checked now in a child process."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("llama-cpp-python")
    except PackageNotFoundError:
        fix = "pip install 'smolsql[fast]' (or make setup); until then smolsql uses transformers"
        return Finding("llama.cpp", False, "llama-cpp-python is not installed", fix)
    from smolsql.backends.check import check_llamacpp as verdict_for
    from smolsql.backends.gguf import gguf_file
    from smolsql.models import resolve_model
    from smolsql.settings import env

    try:
        gguf = gguf_file(resolve_model(model), env("SMOLSQL_GGUF_TYPE") or "")
    except SmolsqlError as exc:
        return Finding("llama.cpp", False, f"llama-cpp-python {installed}: {exc}", "see above")
    verdict = verdict_for(gguf, fresh=True)
    if not verdict.ok:
        return Finding("llama.cpp", False, f"llama-cpp-python {installed}", verdict.reason)
    features = " ".join(re.findall(r"(\w+) = 1", verdict.system_info))
    detail = (
        f"llama-cpp-python {installed}; one prompt on {gguf.name} answered in "
        f"{verdict.seconds:.1f} s (child process); built with: {features or 'unknown'}"
    )
    fix = ""
    if verdict.amx_kernels and cpu_has_amx():
        fix = "this build holds AMX kernels: it answered here, but they are known to crash"
    return Finding("llama.cpp", True, detail, fix)


def check_torch(model: str | None) -> Finding:
    """torch's CPU kernels, and whether bf16 matmuls are faster than fp32 here (training)."""
    try:
        import torch
    except ImportError:
        return Finding("torch", False, "torch is not installed", "make setup (its CPU build)")
    from smolsql.train.precision import resolve_precision

    capability = torch.backends.cpu.get_cpu_capability()
    fp32, bf16 = _gflops(torch, torch.float32), _gflops(torch, torch.bfloat16)
    detail = (
        f"torch {torch.__version__} ({capability}); matmul fp32 {fp32:.0f} GFLOP/s, bf16 "
        f"{bf16:.0f} GFLOP/s; training precision 'auto' is {resolve_precision('auto')}"
    )
    fix = ""
    if cpu_has_bf16() and bf16 < fp32:
        fix = "this CPU has bf16 instructions but torch's bf16 is slower: a torch without oneDNN?"
    return Finding("torch", True, detail, fix)


def _gflops(torch, dtype, n: int = 512, repeats: int = 8) -> float:
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    a @ b  # warm-up: the first call picks and prepares a kernel
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def check_cache(model: str | None) -> Finding:
    """The cache exists, can be written, has room; the offline base model is at hand."""
    from smolsql.models import cache_dir, gguf_path

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        fix = "set SMOLSQL_CACHE to a folder you can write"
        return Finding("model cache", False, f"{folder} cannot be written: {exc.strerror}", fix)
    ggufs = sorted(folder.glob("gguf/*/*.gguf"))
    size = sum(p.stat().st_size for p in ggufs) / 1e6
    free = shutil.disk_usage(folder).free / 1e9
    files = f"{len(ggufs)} GGUF file{'' if len(ggufs) == 1 else 's'}"
    detail = f"{folder}: {files} ({size:.0f} MB), {free:.1f} GB free"
    try:
        detail += f"; offline base {gguf_path().name}"
    except SmolsqlError as exc:
        return Finding("model cache", False, detail, str(exc))
    if free < 2:
        return Finding("model cache", False, detail, "free 2 GB: a model's conversion needs ~1.5")
    return Finding("model cache", True, detail)


CHECKS: tuple[Callable[[str | None], Finding], ...] = (
    check_cpu,
    check_llamacpp,
    check_torch,
    check_cache,
)


def diagnose(model: str | None = None) -> list[Finding]:
    """Every check, in order; a check that raises a user error is a failed finding."""
    findings = []
    for check in CHECKS:
        try:
            findings.append(check(model))
        except SmolsqlError as exc:
            findings.append(Finding(check.__name__.removeprefix("check_"), False, str(exc)))
    return findings


def report(findings: list[Finding]) -> str:
    """One line a finding, and under it what to do (`fix`) or what to know (`note`)."""
    lines = []
    for f in findings:
        lines.append(f"{'ok' if f.ok else 'FAIL':<5} {f.name:<12} {f.detail}")
        if f.fix:
            lines.append(f"{'':<18} {'note' if f.ok else 'fix'}: {f.fix}")
    return "\n".join(lines)
