"""Generation with transformers, on a CUDA GPU when there is one; batched, stops at end of turn.

Greedy answers in batches of similar length; candidates as `num_return_sequences`
samples of one prompt, seeded by (settings' seed, prompt).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smolsql.backends.base import Backend, GenerationSettings, prompt_seed
from smolsql.models import ModelSpec, load_model, load_tokenizer
from smolsql.prompt import END_OF_TURN


class TransformersBackend(Backend):
    can_sample = True
    can_score = True

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        name: str = "",
        settings: GenerationSettings | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"
        self.name = name or getattr(model.config, "_name_or_path", "model")
        self.settings = settings or GenerationSettings()
        stop = {tokenizer.eos_token_id}
        end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
        if isinstance(end_id, int) and end_id != tokenizer.unk_token_id:
            stop.add(end_id)
        self.stop_ids = sorted(i for i in stop if i is not None)

    @classmethod
    def from_spec(
        cls, spec: ModelSpec, settings: GenerationSettings | None = None
    ) -> TransformersBackend:
        import torch

        model = load_model(spec)
        if torch.cuda.is_available():  # evaluation on a GPU machine runs on its GPU
            model = model.to("cuda")
        return cls(model, load_tokenizer(spec), spec.name, settings)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, prompts: Sequence[str]) -> list[str]:
        import torch

        # Similar lengths together, so left padding wastes little compute.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[str] = [""] * len(prompts)
        size = max(1, self.settings.batch_size)
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
                    max_new_tokens=self.settings.max_new_tokens,
                    eos_token_id=self.stop_ids,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new_tokens = generated[:, batch["input_ids"].shape[1] :]
            texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            for i, text in zip(chunk, texts, strict=True):
                out[i] = text
        return out

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        import torch

        if self.settings.temperature == 0:
            return [[text] * n for text in self.generate(prompts)]
        out = []
        limit = self.settings.max_new_tokens
        for prompt in prompts:
            batch = self.tokenizer([prompt], return_tensors="pt", add_special_tokens=False)
            on_gpu = [self.model.device] if self.model.device.type == "cuda" else []
            with torch.random.fork_rng(devices=on_gpu), torch.inference_mode():
                torch.manual_seed(prompt_seed(self.settings.seed, prompt))
                generated = self.model.generate(
                    **batch.to(self.model.device),
                    do_sample=True,
                    temperature=self.settings.temperature,
                    top_p=self.settings.top_p,
                    top_k=0,
                    num_return_sequences=n,
                    max_new_tokens=min(max_new_tokens or limit, limit),
                    eos_token_id=self.stop_ids,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new_tokens = generated[:, batch["input_ids"].shape[1] :]
            out.append(self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        return out

    def score(self, prompt: str, completions: Sequence[str]) -> list[float]:
        import copy

        import torch

        # The prompt is run once; each completion continues a copy of its cache.
        head = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        device = self.model.device
        with torch.inference_mode():
            first = self.model(torch.tensor([head], device=device), use_cache=True)
            last = first.logits[0, -1:].float()
            out = []
            for text in completions:
                tail = self.tokenizer(text + END_OF_TURN, add_special_tokens=False)["input_ids"]
                ids = torch.tensor([tail], device=device)
                cache = copy.deepcopy(first.past_key_values)
                rest = self.model(ids, past_key_values=cache, use_cache=True).logits[0, :-1]
                logits = torch.cat([last, rest.float()])
                picked = logits.log_softmax(-1).gather(1, ids[0, :, None])
                out.append(float(picked.mean()))
        return out
