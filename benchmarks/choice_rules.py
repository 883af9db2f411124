"""Other ways to choose among the same candidates, scored offline from one predictions file.

Reads a run of `benchmarks/candidates.py` (or `smolsql predict --candidates K`), scores every
candidate once against the gold SQL, and reports the execution accuracy each rule would have
given on exactly those candidates:
  smolsql        runs, then returns rows, then most votes, then earliest (what shipped)
  first_rows     the first candidate that returns rows, else the first that runs, else greedy
  most_votes     most votes among the candidates that ran, then earliest (rows not preferred)
  greedy         the first candidate; oracle: any candidate right
Run: .venv/bin/python benchmarks/choice_rules.py runs/candidates/k8 [--out FILE]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from smolsql.evaluate.metrics import score
from smolsql.records import Candidate, Prediction, read_jsonl


def first_rows(tried: tuple[Candidate, ...]) -> int:
    for i, c in enumerate(tried):
        if c.status == "rows":
            return i
    return next((i for i, c in enumerate(tried) if c.ran), 0)


def most_votes(tried: tuple[Candidate, ...]) -> int:
    ran = [i for i, c in enumerate(tried) if c.ran]
    return min(ran, key=lambda i: (-tried[i].votes, i)) if ran else 0


RULES: dict[str, Callable[[Prediction, tuple[Candidate, ...]], int]] = {
    "smolsql": lambda p, tried: p.chosen,
    "first_rows": lambda p, tried: first_rows(tried),
    "most_votes": lambda p, tried: most_votes(tried),
    "greedy": lambda p, tried: 0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a folder with predictions.jsonl")
    parser.add_argument("--out", help="also write the figures as JSON")
    args = parser.parse_args()
    predictions = list(read_jsonl(Path(args.run) / "predictions.jsonl", Prediction))
    right = {rule: 0 for rule in [*RULES, "oracle"]}
    counted = 0
    for prediction in predictions:
        result = score(prediction)
        if result.execution in ("gold_error", "no_db", "no_gold"):
            continue
        counted += 1
        outcomes = result.candidate_execution or (result.execution,)
        tried = prediction.candidates or (Candidate(prediction.sql),)
        for rule, pick in RULES.items():
            right[rule] += outcomes[pick(prediction, tried)] == "correct"
        right["oracle"] += "correct" in outcomes
    report = {rule: round(n / counted, 4) for rule, n in right.items()}
    report["questions"] = counted
    print(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
