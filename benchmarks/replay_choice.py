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
A run replayed with unchanged code must score as it did.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from smolsql.backends.base import Backend
from smolsql.choose import ChoiceSettings
from smolsql.predict import predict
from smolsql.prompt import example_prompt
from smolsql.records import Prediction, append_jsonl, read_jsonl


class Replay(Backend):
    """The completions a run recorded, handed back by prompt: greedy first, then samples."""

    can_sample = True

    def __init__(self, predictions: Sequence[Prediction]) -> None:
        self.name = predictions[0].model if predictions else "replay"
        self.greedy: dict[str, str] = {}
        self.samples: dict[str, list[str]] = {}
        for p in predictions:
            for whole in (False, True):  # a linked schema's candidates, then the whole one's
                written = [
                    c.raw for c in p.candidates if c.repair_of is None and c.whole_schema == whole
                ]
                if not whole:
                    written = written or [p.raw]
                if written:
                    prompt = example_prompt(p.example, whole=whole)
                    self.greedy[prompt], self.samples[prompt] = written[0], written[1:]

    def generate(self, prompts: Sequence[str]) -> list[str]:
        return [self.greedy[p] for p in prompts]

    def sample(
        self, prompts: Sequence[str], n: int, max_new_tokens: int | None = None
    ) -> list[list[str]]:
        return [self.samples[p][:n] for p in prompts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a folder with predictions.jsonl")
    parser.add_argument("--out", required=True, help="folder for the replayed predictions.jsonl")
    parser.add_argument("--candidates", type=int, default=8, help="as the run was made with")
    args = parser.parse_args()
    recorded = list(read_jsonl(Path(args.run) / "predictions.jsonl", Prediction))
    replayed = predict(
        Replay(recorded), [p.example for p in recorded], ChoiceSettings(args.candidates)
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "predictions.jsonl"
    target.unlink(missing_ok=True)
    append_jsonl(target, replayed)
    changed = sum(a.sql != b.sql for a, b in zip(recorded, replayed, strict=True))
    print(f"{len(replayed)} replayed into {target}; {changed} answers differ from the run's")


if __name__ == "__main__":
    main()
