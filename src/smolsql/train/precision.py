"""Training precision: bf16 autocast where the hardware computes bf16 natively, else fp32.

Weights and optimizer state stay fp32 in every case: autocast runs the matmuls in bf16,
while AdamW's small updates land on fp32 master weights instead of rounding away (a
model loaded in bf16 would lose them). On a CPU with AVX-512 BF16 or AMX, bf16 matmuls
run several times faster than fp32 ones (`benchmarks/train_throughput.py --precision`).
"""

from __future__ import annotations

from typing import Any

from smolsql.errors import SmolsqlError
from smolsql.machine import cpu_has_bf16, cpu_model

PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(setting: str) -> str:
    """'auto' becomes 'bf16' on a CUDA GPU or CPU with native bf16, 'fp32' elsewhere."""
    if setting not in PRECISIONS:
        raise SmolsqlError(f"precision must be one of {', '.join(PRECISIONS)}, not {setting!r}")
    if setting != "auto":
        return setting
    import torch

    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_bf16() else "fp32"


def hardware() -> dict[str, Any]:
    """What a run trained on, for its summary and the model card."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_model(),
        "cpu_bf16": cpu_has_bf16(),
        "cpu_threads": torch.get_num_threads(),
        "gpu": gpu,
        "torch": torch.__version__,
    }
