"""What this machine's CPU is and which of its instructions matter to smolsql.

Read from /proc/cpuinfo (Linux) for training's precision, the llama.cpp check and
`smolsql doctor`. Elsewhere the flags are unknown (empty) and the name is the
platform's.
"""

from __future__ import annotations

import functools
import hashlib
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
FLAGS_THAT_MATTER = (
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)
"""What llama.cpp's kernels and torch's bf16 matmuls use, in the order doctor prints them."""
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
"""Native bf16 matmuls (training autocasts to bf16 where one is present)."""
AMX_FLAGS = frozenset({"amx_tile", "amx_int8", "amx_bf16"})
"""Intel AMX: llama.cpp's AMX kernels die with SIGILL here (scripts/llama-cpp-build.sh)."""


@functools.cache
def _cpuinfo_text(path: Path) -> str:
    """The file, read once a process (each question's start asks it several things)."""
    try:
        return path.read_text()
    except OSError:
        return ""


def _cpuinfo_field(name: str) -> str | None:
    """The first processor's `name` line of /proc/cpuinfo, or None where there is none."""
    for line in _cpuinfo_text(CPUINFO).splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def cpu_model() -> str:
    """The CPU's marketing name (Linux), else what the platform module says."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags as the kernel names them (empty where unknown)."""
    return frozenset((_cpuinfo_field("flags") or "").split())


def cpu_has_bf16() -> bool:
    """Whether the CPU has native bf16 instructions."""
    return bool(cpu_flags() & BF16_FLAGS)


def cpu_has_amx() -> bool:
    """Whether the CPU has Intel AMX tiles (where a default llama.cpp build dies)."""
    return bool(cpu_flags() & AMX_FLAGS)


def cpu_fingerprint() -> str:
    """Names this CPU by what it runs: the same on every machine of one CPU model."""
    text = f"{platform.machine()}|{cpu_model()}|{' '.join(sorted(cpu_flags()))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
