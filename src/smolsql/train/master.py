"""fp32 master weights for a model that trains in bf16 (`precision.py` says when)."""

from __future__ import annotations

from typing import Any

import torch


class MasterAdamW(torch.optim.AdamW):
    """AdamW over fp32 copies of a bf16 model's trainable weights.

    Takes the Trainer's parameter groups of bf16 weights. Each step reads their bf16
    gradients into fp32, updates the fp32 copies and writes them back, rounded. The copies
    go into `state_dict`, so a resumed run goes on from them, not from the rounded weights
    of its checkpoint.
    """

    def __init__(self, params: Any, **kwargs: Any) -> None:
        params = list(params)
        grouped = bool(params) and isinstance(params[0], dict)
        groups = [dict(g) for g in params] if grouped else [{"params": params}]
        self.weights: list[torch.Tensor] = []
        for group in groups:
            weights = list(group["params"])
            self.weights += weights
            group["params"] = [w.detach().float() for w in weights]
        super().__init__(groups, **kwargs)

    def _pairs(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        masters = [m for group in self.param_groups for m in group["params"]]
        return list(zip(self.weights, masters, strict=True))

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        for weight, master in self._pairs():
            master.grad = None if weight.grad is None else weight.grad.float()
        loss = super().step(closure)
        for weight, master in self._pairs():
            weight.copy_(master)
            master.grad = None
        return loss

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["masters"] = [master.clone() for _, master in self._pairs()]
        return state

    @torch.no_grad()
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        masters = state_dict.pop("masters")
        super().load_state_dict(state_dict)
        for (weight, master), saved in zip(self._pairs(), masters, strict=True):
            master.copy_(saved)
            weight.copy_(saved)
