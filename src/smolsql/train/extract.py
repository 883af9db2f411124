"""A full fine-tune as a small LoRA adapter: the low-rank part of its change to the base.

A full fine-tune of SmolLM2-135M is 540 MB in fp32, far over what the repository
ships (48 MB). Its change to each linear layer, dW = W_tuned - W_base, is factored
by SVD, and the `rank` largest directions become LoRA's B and A (alpha = rank,
so LoRA's scale is 1 and B @ A is the truncated dW), saved as a PEFT adapter on
the same base: it loads like any other adapter (`--model FOLDER`) and must be
scored after extraction, since what the truncation drops is lost. Changed norms
are small (one vector each) and are carried whole, as PEFT's `modules_to_save`, unless
`norms=False`; what the adapter cannot hold (embeddings) is reported with how much
it changed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from smolsql.errors import SmolsqlError
from smolsql.models import PROMPT_NOTES, ModelSpec, load_model, resolve_model
from smolsql.train.sft import finalize_adapter


@dataclass(frozen=True)
class Extraction:
    rank: int
    layers: int
    """Linear layers whose change became LoRA weights."""
    kept_energy: float
    """Share of the linear layers' squared change (Frobenius) the rank keeps: 1.0 at full rank."""
    worst_layer_error: float
    """Largest ||dW - B A|| / ||dW|| over the layers."""
    not_kept: dict[str, float] = field(default_factory=dict)
    """Other changed parameters (name -> ||change|| / ||base||): the adapter leaves them out."""
    whole: dict[str, float] = field(default_factory=dict)
    """Changed norms the adapter carries whole (name -> ||change|| / ||base||)."""


def extract_lora(
    base: ModelSpec,
    tuned: str | Path,
    out: str | Path,
    rank: int,
    dtype: str = "bfloat16",
    norms: bool = True,
) -> Extraction:
    """Write to `out` a LoRA adapter approximating `tuned`, a full fine-tune of `base`."""
    import torch
    from peft import LoraConfig, get_peft_model

    out = Path(out)
    if rank < 1:
        raise SmolsqlError("rank must be at least 1")
    if out.exists() and any(out.iterdir()):
        raise SmolsqlError(f"{out} exists and is not empty; choose a new folder")
    tuned_spec = resolve_model(str(tuned))  # a bad name fails before the base loads
    base_model = load_model(base)
    tuned_state = load_model(tuned_spec).state_dict()
    linear = {
        name: module
        for name, module in base_model.named_modules()
        if isinstance(module, torch.nn.Linear) and not name.endswith("lm_head")
    }
    deltas = {name: tuned_state[f"{name}.weight"] - m.weight.detach() for name, m in linear.items()}
    changed = {name: d for name, d in deltas.items() if torch.count_nonzero(d)}
    if not changed:
        raise SmolsqlError(f"{tuned} does not differ from {base.name} in any linear layer")
    not_kept, whole = {}, {}
    modules = dict(base_model.named_modules())
    for name, value in base_model.state_dict().items():
        owner = name.rsplit(".", 1)[0]
        if owner in linear or name not in tuned_state:
            continue
        change = float((tuned_state[name] - value).norm() / max(float(value.norm()), 1e-12))
        if change > 0:
            is_norm = "norm" in type(modules[owner]).__name__.lower() and value.dim() == 1
            (whole if norms and is_norm else not_kept)[name] = round(change, 6)
    suffixes = sorted({name.rsplit(".", 1)[-1] for name in changed})
    carried = sorted(name.rsplit(".", 1)[0] for name in whole)
    config = LoraConfig(
        r=rank,
        lora_alpha=rank,
        target_modules=suffixes,
        lora_dropout=0.0,
        modules_to_save=carried or None,
    )
    peft_model = get_peft_model(base_model, config)
    kept = total = 0.0
    worst = 0.0
    with torch.no_grad():
        for name, delta in deltas.items():
            u, s, vh = torch.linalg.svd(delta.double(), full_matrices=False)
            r = min(rank, s.numel())
            root = s[:r].sqrt()
            b = u[:, :r] * root  # (out, r)
            a = root[:, None] * vh[:r]  # (r, in)
            layer = peft_model.get_submodule(f"base_model.model.{name}")
            layer.lora_A["default"].weight.zero_()
            layer.lora_B["default"].weight.zero_()
            layer.lora_A["default"].weight[:r] = a.float()
            layer.lora_B["default"].weight[:, :r] = b.float()
            energy = float((s**2).sum())
            kept += float((s[:r] ** 2).sum())
            total += energy
            if energy:
                error = float((delta.double() - b @ a).norm() / delta.double().norm())
                worst = max(worst, error)
        for name in whole:
            owner, param = name.rsplit(".", 1)
            wrapper = peft_model.get_submodule(f"base_model.model.{owner}")
            getattr(wrapper.modules_to_save["default"], param).copy_(tuned_state[name])
    peft_model.save_pretrained(out)
    finalize_adapter(out, base.base, dtype)
    report = Extraction(rank, len(deltas), round(kept / total, 6), round(worst, 6), not_kept, whole)
    (out / "extraction.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    notes = Path(tuned) / PROMPT_NOTES
    if notes.exists():  # what the model reads in its prompts goes with its weights
        shutil.copyfile(notes, out / PROMPT_NOTES)
    return report
