"""Generation with llama.cpp on a GGUF file: the fast path on a CPU.

One question is decoded at a time, greedily, token by token, from an F16 file by
default (see the README's measurements for the other types). Each question's prompt starts
with its schema (see `smolsql.prompt`); the state after that prefix is kept per
schema, so a question about a database seen before only computes its own tokens.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smolsql.backends.base import GenerationOptions
from smolsql.models import ModelSpec
from smolsql.prompt import END_OF_TURN, shared_prefix

DEFAULT_GGUF_TYPE = "f16"
"""Same SQL as transformers fp32 on 98.5% of Spider dev; Q8_0 is faster, 62.8% (README)."""
N_CTX = 4096
"""Schema budget (1536 by default) + question + answer, with room for larger budgets."""


class LlamaCppBackend:
    def __init__(
        self,
        model_path: str | Path,
        name: str = "",
        options: GenerationOptions | None = None,
        prefix_cache: int = 8,
        n_threads: int | None = None,
        lookahead: int = 0,
    ) -> None:
        """`prefix_cache`: schema prefixes kept computed (0: none, not even the last one).

        `lookahead`: prompt-lookup draft tokens checked per decode step (0: plain greedy).
        """
        from llama_cpp import Llama

        self.llm = Llama(
            model_path=str(model_path),
            n_ctx=N_CTX,
            n_batch=256,  # the logits buffer is n_batch x vocab floats: 50 MB here, not 100
            n_threads=n_threads or os.cpu_count(),
            verbose=False,
        )
        self.name = name or Path(model_path).stem
        self.options = options or GenerationOptions()
        self.prefix_cache = prefix_cache
        self._states: OrderedDict[str, bytes] = OrderedDict()
        self.stop_ids = {self.llm.token_eos(), *self._tokens(END_OF_TURN)}
        self.prefix_hits = 0
        self.lookahead = lookahead
        self.drafted = self.accepted = 0

    @classmethod
    def from_spec(
        cls, spec: ModelSpec, options: GenerationOptions | None = None, outtype: str = ""
    ) -> LlamaCppBackend:
        from smolsql.convert import gguf_file

        outtype = outtype or os.environ.get("SMOLSQL_GGUF_TYPE") or DEFAULT_GGUF_TYPE
        return cls(gguf_file(spec, outtype), f"{spec.name} ({outtype}, llama.cpp)", options)

    def count_tokens(self, text: str) -> int:
        return len(self._tokens(text))

    def generate(self, prompts: Sequence[str]) -> list[str]:
        # Questions on one schema one after another: each prefix is computed once.
        order = sorted(range(len(prompts)), key=lambda i: shared_prefix(prompts[i]))
        out = [""] * len(prompts)
        for i in order:
            out[i] = self._complete(prompts[i])
        return out

    def _complete(self, prompt: str) -> str:
        tokens = self._tokens(prompt)
        if self.prefix_cache:
            self._restore(shared_prefix(prompt))
        else:
            self.llm.reset()  # forget the last prompt, so nothing is reused
        return self.llm.detokenize(self._greedy(tokens)).decode("utf-8", errors="replace")

    def _greedy(self, prompt: list[int]) -> list[int]:
        """Greedy decoding with prompt-lookup drafts, verified in one batch per step.

        SQL copies table and column names from the schema in the prompt: after each
        token, the tokens that followed the last `NGRAM` tokens' earlier occurrence are
        proposed, the model scores them all in one decode, and the ones it would have
        chosen itself are kept. The output is the greedy output; only faster.
        """
        llm = self.llm
        kept = _common_length(llm.input_ids[: llm.n_tokens], prompt[:-1])
        llm.n_tokens = kept  # reuse what is already computed (the schema prefix)
        llm.eval(prompt[kept:])
        n_past = llm.n_tokens
        token = _argmax(llm, -1)
        context = list(prompt)
        out: list[int] = []
        while token not in self.stop_ids and len(out) < self.options.max_new_tokens:
            out.append(token)
            context.append(token)
            room = min(self.lookahead, self.options.max_new_tokens - len(out), N_CTX - n_past - 2)
            draft = _lookup(context, max(room, 0))
            batch = [token, *draft]
            choices = _decode_all(llm, batch, n_past)
            accepted = 0
            while accepted < len(draft) and choices[accepted] == draft[accepted]:
                if draft[accepted] in self.stop_ids or len(out) >= self.options.max_new_tokens:
                    break
                out.append(draft[accepted])
                context.append(draft[accepted])
                accepted += 1
            n_past += 1 + accepted
            llm._ctx.kv_cache_seq_rm(-1, n_past, -1)  # drop the rejected draft's cells
            llm.input_ids[n_past - 1 - accepted : n_past] = batch[: 1 + accepted]
            llm.n_tokens = n_past
            token = choices[accepted] if accepted < len(choices) else choices[-1]
            self.drafted += len(draft)
            self.accepted += accepted
        return out

    def _restore(self, prefix: str) -> None:
        """Put the state after `prefix` in place; `generate` then evaluates only the rest."""
        if not prefix:
            return
        tokens = self._tokens(prefix)
        n = len(tokens)
        if self.llm.n_tokens >= n and list(self.llm.input_ids[:n]) == tokens:
            self.prefix_hits += 1  # already there: the last question was on this schema
        elif prefix in self._states:
            self._load(tokens, self._states[prefix])
            self._states.move_to_end(prefix)
            self.prefix_hits += 1
        else:
            self.llm.reset()
            self.llm.eval(tokens)
            self._states[prefix] = self._save()
            while len(self._states) > self.prefix_cache:
                self._states.popitem(last=False)

    # Llama.save_state also copies its n_batch x vocab logits buffer (50 MB) per state;
    # a prefix needs only the context's own state (the KV cache, ~23 KB per token here).
    def _save(self) -> bytes:
        import ctypes

        import llama_cpp

        ctx = self.llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(ctx, buffer, size)
        return bytes(buffer[:written])

    def _load(self, tokens: list[int], state: bytes) -> None:
        import ctypes

        import llama_cpp

        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(self.llm._ctx.ctx, buffer, len(state)) != len(state):
            raise RuntimeError("llama.cpp refused a saved prefix state")
        self.llm.input_ids[: len(tokens)] = tokens
        self.llm.n_tokens = len(tokens)
        self.llm._requires_eval = True  # the logits are stale until the suffix is evaluated

    def _tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)


NGRAM = 2


def _lookup(context: list[int], k: int) -> list[int]:
    """Up to `k` tokens that followed the latest earlier occurrence of the last NGRAM tokens."""
    if k <= 0 or len(context) <= NGRAM:
        return []
    tail = context[-NGRAM:]
    for start in range(len(context) - NGRAM - 1, -1, -1):
        if context[start : start + NGRAM] == tail:
            return context[start + NGRAM : start + NGRAM + k]
    return []


def _common_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _argmax(llm: Any, index: int) -> int:
    """The greedy token from the logits of batch position `index` (-1: the last)."""
    import llama_cpp
    import numpy as np

    row = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, index)
    return int(np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).argmax())


def _decode_all(llm: Any, batch: list[int], n_past: int) -> list[int]:
    """Decode `batch` at `n_past` with logits at every position; the greedy choice after each."""
    llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
    llm._ctx.decode(llm._batch)
    return [_argmax(llm, i) for i in range(len(batch))]
