"""Replays a scored run's answers through today's choosing stage, without the model.

A change to the checks, the repairs or the ranking in `smolsql.choose` changes which
candidate wins, but measuring it with `smolsql predict` regenerates every answer (about
ten minutes of both cores on Spider validation). The model's part is recorded in the run:
the greedy completion and the sampled ones, and samples are a function of (seed, prompt).
So a backend that hands those completions back lets `smolsql.predict.predict` run the
real pipeline again, checks, repairs, votes and all, in about a minute of one core:
  .venv/bin/python benchmarks/replay_choice.py runs/dev-epoch3-k8-q8_0 --out runs/replayed
  smolsql eval runs/replayed && smolsql compare runs/dev-epoch3-k8-q8_0 runs/replayed
Latency in the replayed run is today's choosing time alone; only accuracy is comparable.
A run replayed with unchanged code must score as it did. The model's likelihoods of the
candidates it weighed are recorded too and handed back; a run recorded before they were
is replayed with votes alone, and a change that weighs a candidate the run did not is
refused. `--score-with MODEL` asks the model itself for likelihoods instead (a few minutes
of llama.cpp), which measures the weighing on a run recorded without it:
  .venv/bin/python benchmarks/replay_choice.py RUN --out OUT --score-with default \
      --likelihood-weight 4
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from smolsql.backends import load_backend
from smolsql.backends.base import Backend
from smolsql.choose import LIKELIHOOD_WEIGHT, ChoiceSettings, as_written
from smolsql.errors import SmolsqlError
from smolsql.predict import predict
from smolsql.prompt import example_prompt
from smolsql.records import Prediction, append_jsonl, read_jsonl


class Replay(Backend):
    """The completions a run recorded, handed back by prompt: greedy first, then samples."""

    can_sample = True

    def __init__(self, predictions: Sequence[Prediction], scorer: Backend | None = None) -> None:
        self.name = predictions[0].model if predictions else "replay"
        self.greedy: dict[str, str] = {}
        self.samples: dict[str, list[str]] = {}
        self.likelihoods: dict[tuple[str, str], float] = {}
        for p in predictions:
            reference = example_prompt(p.example, whole=True)  # where choosing scores them
            for c in p.candidates:
                if c.likelihood is not None:
                    self.likelihoods[reference, as_written(c)] = c.likelihood
            for whole in (False, True):  # a linked schema's candidates, then the whole one's
                written = [
                    c.raw for c in p.candidates if c.repair_of is None and c.whole_schema == whole
                ]
                if not whole:
                    written = written or [p.raw]
                if written:
                    prompt = example_prompt(p.example, whole=whole)
                    self.greedy[prompt], self.samples[prompt] = written[0], written[1:]
        self.scorer = scorer
        self.can_score = scorer is not None or bool(self.likelihoods)

    def generate(self, prompts: Sequence[str]) -> list[str]:
        return [self.greedy[p] for p in prompts]

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        return [self.samples[p][:n] for p in prompts]

    def score(self, prompt: str, completions: Sequence[str]) -> list[float]:
        if self.scorer is not None:
            return self.scorer.score(prompt, completions)
        missing = [text for text in completions if (prompt, text) not in self.likelihoods]
        if missing:
            raise SmolsqlError(f"the run did not weigh {missing[0]!r}: rerun it with the model")
        return [self.likelihoods[prompt, text] for text in completions]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a folder with predictions.jsonl")
    parser.add_argument("--out", required=True, help="folder for the replayed predictions.jsonl")
    parser.add_argument("--candidates", type=int, default=8, help="as the run was made with")
    parser.add_argument(
        "--likelihood-weight",
        type=float,
        default=LIKELIHOOD_WEIGHT,
        help="votes one nat of mean log-probability is worth (0: votes alone)",
    )
    parser.add_argument("--score-with", help="a model to ask for likelihoods, e.g. default")
    args = parser.parse_args()
    recorded = list(read_jsonl(Path(args.run) / "predictions.jsonl", Prediction))
    scorer = None
    if args.score_with:
        name = None if args.score_with == "default" else args.score_with
        scorer = load_backend(name, "llamacpp")
    choice = ChoiceSettings(args.candidates, likelihood_weight=args.likelihood_weight)
    replayed = predict(Replay(recorded, scorer), [p.example for p in recorded], choice)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "predictions.jsonl"
    target.unlink(missing_ok=True)
    append_jsonl(target, replayed)
    changed = sum(a.sql != b.sql for a, b in zip(recorded, replayed, strict=True))
    print(f"{len(replayed)} replayed into {target}; {changed} answers differ from the run's")


if __name__ == "__main__":
    main()
