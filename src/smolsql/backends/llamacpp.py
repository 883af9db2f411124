"""Generation with llama.cpp on a GGUF file: the fast path on a CPU.

llama-cpp-python's `Llama` loads the weights and tokenizes; the decoding runs on
a context of our own, made and driven through the `llama_*` C functions that
llama-cpp-python mirrors (public API, no private attributes): one sequence for
greedy answers, up to `MAX_SEQUENCES` for candidates. Each question's prompt
starts with its schema (see `smolsql.prompt`); the state after that prefix is
kept per schema, so a question about a database seen before only computes its own
tokens. Candidates for one question are decoded as parallel sequences in one
batch per step, all sharing the question's computed prompt (the multi-sequence
KV cache), not one run after another.
"""

from __future__ import annotations

import ctypes
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from smolsql.backends.base import Backend, GenerationSettings, prompt_seed
from smolsql.errors import SmolsqlError
from smolsql.models import ModelSpec
from smolsql.prompt import END_OF_TURN, shared_prefix
from smolsql.settings import env

N_CTX = 4096
"""KV cells shared by all sequences: a 1536-token schema, the question and the candidates' SQL
(16 candidates of 128 tokens fit beside the largest schema; more get shorter limits)."""
N_BATCH = 256
MAX_SEQUENCES = 32
"""Candidates decoded together at most (`smolsql.choose.MAX_CANDIDATES`)."""
TOP_TOKENS = 256
"""Nucleus sampling looks at the most likely tokens first (the rest rarely matter)."""


class LlamaCppBackend(Backend):
    can_sample = True
    can_score = True

    def __init__(
        self,
        model_path: str | Path,
        name: str = "",
        settings: GenerationSettings | None = None,
    ) -> None:
        import llama_cpp
        from llama_cpp import Llama

        self.settings = settings or GenerationSettings()
        threads = self.settings.threads or os.cpu_count() or 1
        # Weights and tokenizer; its own context is left minimal, decoding uses ours.
        self.llm = Llama(
            model_path=str(model_path), n_ctx=32, n_batch=32, n_threads=threads, verbose=False
        )
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = N_CTX
        params.n_batch = params.n_ubatch = N_BATCH
        params.n_seq_max = MAX_SEQUENCES
        params.kv_unified = True  # one pool of cells: a prompt shared by sequences is stored once
        params.n_threads = params.n_threads_batch = threads
        self._ctx = llama_cpp.llama_init_from_model(self.llm.model, params)
        if not self._ctx:
            raise SmolsqlError(f"llama.cpp could not make a context for {model_path}")
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(N_BATCH, 0, 1)
        self._n_vocab = self.llm.n_vocab()
        self._past: list[int] = []
        """Tokens whose keys and values sequence 0 holds, at positions 0, 1, ..."""
        self.name = name or Path(model_path).stem
        self._states: OrderedDict[str, bytes] = OrderedDict()
        self.stop_ids = {self.llm.token_eos(), *self._tokens(END_OF_TURN)}
        self.prefix_hits = 0
        self.drafted = self.accepted = 0

    @classmethod
    def from_spec(
        cls, spec: ModelSpec, settings: GenerationSettings | None = None, outtype: str = ""
    ) -> LlamaCppBackend:
        from smolsql.backends.check import require_llamacpp
        from smolsql.backends.gguf import gguf_file

        outtype = outtype or env("SMOLSQL_GGUF_TYPE") or ""  # its default: settings.py
        path = gguf_file(spec, outtype)
        require_llamacpp(path)  # a child answers first: a crash there is a message here
        return cls(path, f"{spec.name} ({outtype}, llama.cpp)", settings)

    def close(self) -> None:
        import llama_cpp

        if getattr(self, "_ctx", None):
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self._ctx)
            self._ctx = None

    def __del__(self) -> None:
        self.close()

    def count_tokens(self, text: str) -> int:
        return len(self._tokens(text))

    def generate(self, prompts: Sequence[str]) -> list[str]:
        # Questions on one schema one after another: each prefix is computed once.
        order = sorted(range(len(prompts)), key=lambda i: shared_prefix(prompts[i]))
        out = [""] * len(prompts)
        for i in order:
            out[i] = self._text(self._greedy(self._prompt(prompts[i])))
        return out

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        if not 1 <= n <= MAX_SEQUENCES:
            raise SmolsqlError(f"llama.cpp decodes 1 to {MAX_SEQUENCES} candidates, not {n}")
        out = []
        for prompt in prompts:
            rng = np.random.default_rng(prompt_seed(self.settings.seed, prompt))
            tokens = self._parallel(self._prompt(prompt), n, rng, max_new_tokens)
            out.append([self._text(t) for t in tokens])
        return out

    def score(self, prompt: str, completions: Sequence[str]) -> list[float]:
        return [sum(lps) / len(lps) for lps in self._log_probs(prompt, completions)]

    def _log_probs(self, prompt: str, completions: Sequence[str]) -> list[list[float]]:
        """Each completion's tokens' log-probabilities after `prompt`, its stop marker last.

        The prompt is computed once (its schema prefix from the cache); completions are
        decoded as parallel sequences sharing it, several in one batch.
        """
        import llama_cpp

        tokens = self._prompt(prompt)
        self._feed(tokens)
        n_past = len(tokens)
        first = _log_softmax(self._logits(-1))
        wanted = [self._tokens(text + END_OF_TURN) for text in completions]
        out: list[list[float]] = [[float(first[ids[0]])] for ids in wanted]
        groups: list[list[int]] = [[]]
        size = 0  # tokens the last group decodes
        for i, ids in enumerate(wanted):  # completions decoded together, N_BATCH tokens a group
            full = size + len(ids) - 1 > N_BATCH or len(groups[-1]) == MAX_SEQUENCES - 1
            if groups[-1] and full:
                groups.append([])
                size = 0
            groups[-1].append(i)
            size += len(ids) - 1
        for group in groups:
            entries, rows = [], []
            try:
                for s, i in enumerate(group, start=1):
                    llama_cpp.llama_memory_seq_cp(self._memory, 0, s, 0, n_past)
                    for k, t in enumerate(wanted[i][:-1]):
                        rows.append((i, wanted[i][k + 1]))
                        entries.append((t, n_past + k, s, True))
                for j in range(0, len(entries), N_BATCH):
                    self._decode(entries[j : j + N_BATCH])
                    for r, (i, nxt) in enumerate(rows[j : j + N_BATCH]):
                        out[i].append(float(_log_softmax(self._logits(r))[nxt]))
            finally:  # only sequence 0's prompt remains
                for s in range(1, len(group) + 1):
                    llama_cpp.llama_memory_seq_rm(self._memory, s, -1, -1)
        return out

    # ------------------------------------------------------------------ decoding

    def _prompt(self, prompt: str) -> list[int]:
        """The prompt's tokens, with its schema prefix put in place from the cache."""
        if self.settings.prefix_cache:
            self._restore(shared_prefix(prompt))
        else:
            self._forget()
        return self._tokens(prompt)

    def _feed(self, tokens: list[int]) -> None:
        """Make sequence 0 hold `tokens`, computing only what it does not hold yet.

        Afterwards the logits of the last token are output -1.
        """
        import llama_cpp

        kept = min(_common_length(self._past, tokens), len(tokens) - 1)
        llama_cpp.llama_memory_seq_rm(self._memory, 0, kept, -1)
        for start in range(kept, len(tokens), N_BATCH):
            chunk = tokens[start : start + N_BATCH]
            last = start + len(chunk) == len(tokens)
            self._decode(
                [(t, start + i, 0, last and i == len(chunk) - 1) for i, t in enumerate(chunk)]
            )
        self._past = list(tokens)

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of (token, position, sequence, wants logits) entries."""
        import llama_cpp

        batch = self._batch
        batch.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = logits
        status = llama_cpp.llama_decode(self._ctx, batch)
        if status != 0:
            raise SmolsqlError(f"llama.cpp could not decode (status {status}): context full?")

    def _logits(self, index: int) -> np.ndarray:
        import llama_cpp

        row = llama_cpp.llama_get_logits_ith(self._ctx, index)
        return np.ctypeslib.as_array(row, shape=(self._n_vocab,))

    def _room(self, used: int, sequences: int = 1, cap: int | None = None) -> int:
        """New tokens each sequence may write: max_new_tokens, or what the context has left."""
        limit = min(self.settings.max_new_tokens, cap or self.settings.max_new_tokens)
        return max(0, min(limit, (N_CTX - used) // sequences - 1))

    def _greedy(self, prompt: list[int]) -> list[int]:
        """Greedy decoding with prompt-lookup drafts, verified in one batch per step.

        SQL copies table and column names from the schema in the prompt: with
        `settings.lookahead`, after each token the tokens that followed the last
        `NGRAM` tokens' earlier occurrence are proposed, the model scores them all
        in one decode, and the ones it would have chosen itself are kept. The
        output is the greedy output either way.
        """
        import llama_cpp

        self._feed(prompt)
        limit = self._room(len(prompt))
        n_past = len(prompt)
        token = int(self._logits(-1).argmax())
        context = list(prompt)
        out: list[int] = []
        while token not in self.stop_ids and len(out) < limit:
            out.append(token)
            context.append(token)
            room = min(self.settings.lookahead, limit - len(out))
            draft = _lookup(context, max(room, 0))
            batch = [token, *draft]
            self._decode([(t, n_past + i, 0, True) for i, t in enumerate(batch)])
            choices = [int(self._logits(i).argmax()) for i in range(len(batch))]
            accepted = 0
            while accepted < len(draft) and choices[accepted] == draft[accepted]:
                if draft[accepted] in self.stop_ids or len(out) >= limit:
                    break
                out.append(draft[accepted])
                context.append(draft[accepted])
                accepted += 1
            n_past += 1 + accepted
            llama_cpp.llama_memory_seq_rm(self._memory, 0, n_past, -1)  # the rejected draft
            token = choices[accepted]
            self.drafted += len(draft)
            self.accepted += accepted
        self._past = context[:n_past]
        return out

    def _parallel(
        self, prompt: list[int], n: int, rng: np.random.Generator, cap: int | None = None
    ) -> list[list[int]]:
        """`n` sampled continuations of `prompt`, decoded as `n` sequences in one batch a step.

        The prompt is computed once, in sequence 0, and shared with sequences 1..n-1
        (their cells are the same cells); each step decodes the next token of every
        unfinished sequence together. Afterwards only sequence 0's prompt remains.
        """
        import llama_cpp

        self._feed(prompt)
        n_past = len(prompt)
        limit = self._room(n_past, n, cap)
        first = self._logits(-1)[None, :]
        current = [_sample(first, self.settings, rng)[0] for _ in range(n)]
        for seq in range(1, n):
            llama_cpp.llama_memory_seq_cp(self._memory, 0, seq, 0, n_past)
        outs: list[list[int]] = [[] for _ in range(n)]
        active = list(range(n))
        try:
            while True:
                active = [
                    s for s in active if current[s] not in self.stop_ids and len(outs[s]) < limit
                ]
                if not active:
                    break
                entries = []
                for s in active:
                    outs[s].append(current[s])
                    entries.append((current[s], n_past + len(outs[s]) - 1, s, True))
                self._decode(entries)
                logits = np.stack([self._logits(i) for i in range(len(active))])
                for s, token in zip(active, _sample(logits, self.settings, rng), strict=True):
                    current[s] = token
        finally:
            for seq in range(1, n):
                llama_cpp.llama_memory_seq_rm(self._memory, seq, -1, -1)
            llama_cpp.llama_memory_seq_rm(self._memory, 0, n_past, -1)
            self._past = list(prompt)
        return outs

    # ------------------------------------------------------------------ prefix states

    def _restore(self, prefix: str) -> None:
        """Put the state after `prefix` in place; the prompt's own tokens are computed later."""
        if not prefix:
            return
        tokens = self._tokens(prefix)
        if self._past[: len(tokens)] == tokens:
            self.prefix_hits += 1  # already there: the last question was on this schema
        elif prefix in self._states:
            self._load(tokens, self._states[prefix])
            self._states.move_to_end(prefix)
            self.prefix_hits += 1
        else:
            self._forget()
            self._feed(tokens)
            self._states[prefix] = self._save()
            while len(self._states) > self.settings.prefix_cache:
                self._states.popitem(last=False)

    def _forget(self) -> None:
        import llama_cpp

        llama_cpp.llama_memory_clear(self._memory, True)
        self._past = []

    # Only sequence 0's cells: the KV cache of the prefix, ~23 KB per token here.
    def _save(self) -> bytes:
        import llama_cpp

        size = llama_cpp.llama_state_seq_get_size(self._ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(self._ctx, buffer, size, 0)
        return bytes(buffer[:written])

    def _load(self, tokens: list[int], state: bytes) -> None:
        import llama_cpp

        self._forget()
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_seq_set_data(self._ctx, buffer, len(state), 0) != len(state):
            raise SmolsqlError("llama.cpp refused a saved prefix state")
        self._past = list(tokens)

    def _tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def _text(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="replace")


def _log_softmax(row: np.ndarray) -> np.ndarray:
    shifted = row.astype(np.float64) - row.max()
    return shifted - np.log(np.exp(shifted).sum())


def _sample(logits: np.ndarray, settings: GenerationSettings, rng: Any) -> list[int]:
    """One token per row of `logits`: temperature, then nucleus (top-p) sampling.

    The nucleus is taken among the `TOP_TOKENS` most likely tokens (at the
    temperatures used here the rest hold a negligible share), so only they are scored.
    """
    if settings.temperature == 0:
        return [int(i) for i in logits.argmax(axis=1)]
    k = min(TOP_TOKENS, logits.shape[1] - 1)
    top = np.argpartition(logits, -k, axis=1)[:, -k:]
    out = []
    for row, ids in zip(logits, top, strict=True):
        scores = row[ids].astype(np.float64) / settings.temperature
        order = np.argsort(-scores, kind="stable")
        weights = np.exp(scores[order] - scores[order[0]])
        mass = np.cumsum(weights) / weights.sum()
        keep = int(np.searchsorted(mass, settings.top_p)) + 1  # the first to reach top_p
        kept = weights[:keep]
        out.append(int(ids[order[rng.choice(len(kept), p=kept / kept.sum())]]))
    return out


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
