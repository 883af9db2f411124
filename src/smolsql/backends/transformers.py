"""Generation with transformers on CPU or GPU: batched, greedy, stopping at end of turn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smolsql.backends.base import GenerationOptions
from smolsql.models import ModelSpec, load_model, load_tokenizer
from smolsql.prompt import END_OF_TURN


class TransformersBackend:
    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        name: str = "",
        options: GenerationOptions | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"
        self.name = name or getattr(model.config, "_name_or_path", "model")
        self.options = options or GenerationOptions()
        stop = {tokenizer.eos_token_id}
        end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
        if isinstance(end_id, int) and end_id != tokenizer.unk_token_id:
            stop.add(end_id)
        self.stop_ids = sorted(i for i in stop if i is not None)

    @classmethod
    def from_spec(cls, spec: ModelSpec, options: GenerationOptions | None = None):
        return cls(load_model(spec), load_tokenizer(spec), spec.name, options)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, prompts: Sequence[str]) -> list[str]:
        import torch

        # Similar lengths together, so left padding wastes little compute.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[str] = [""] * len(prompts)
        size = max(1, self.options.batch_size)
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            batch = self.tokenizer(
                [prompts[i] for i in chunk],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            ).to(self.model.device)
            with torch.inference_mode():
                generated = self.model.generate(
                    **batch,
                    do_sample=False,
                    max_new_tokens=self.options.max_new_tokens,
                    eos_token_id=self.stop_ids,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new_tokens = generated[:, batch["input_ids"].shape[1] :]
            texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            for i, text in zip(chunk, texts, strict=True):
                out[i] = text
        return out
