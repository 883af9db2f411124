"""Which schemas to link: a rule by table count, judged on recorded runs, no model.

For each pair of runs of the same questions (the whole schema, then `--link-schema on`),
and each threshold T: every question on a database of at least T tables takes the linked
run's answer, the others the whole schema's. Prints accuracy, the questions that change
(right only with the rule / only without) and the two-sided sign test, default and greedy,
and the share of questions linked (which pay the linked prompt's latency).

Run: python benchmarks/linking_threshold.py NAME=WHOLE_RUN,LINKED_RUN ... [--thresholds 2,3,4,5,6]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from smolsql.db import open_database
from smolsql.evaluate.report import (
    format_p,
    greedy_right,
    is_right,
    paired,
    scores_by_example,
    sign_test,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="NAME=WHOLE_RUN,LINKED_RUN")
    parser.add_argument("--thresholds", default="2,3,4,5,6")
    args = parser.parse_args()
    thresholds = [int(t) for t in args.thresholds.split(",")]
    print(
        "| questions | link at tables >= | linked | default | changes | p | greedy | changes | p |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for pair in args.pairs:
        name, _, runs = pair.partition("=")
        whole_run, linked_run = (Path(r) for r in runs.split(","))
        whole, linked = scores_by_example(whole_run), scores_by_example(linked_run)
        keys = sorted(whole.keys() & linked.keys())
        tables: dict[str, int] = {}
        for db_path, _, _ in keys:
            if db_path not in tables:
                with open_database(db_path) as db:
                    tables[db_path] = len(db.schema().tables)
        for t in thresholds:
            chosen = {k: linked[k] if tables[k[0]] >= t else whole[k] for k in keys}
            cells = [name, str(t), f"{sum(tables[k[0]] >= t for k in keys) / len(keys):.0%}"]
            for right in (is_right, greedy_right):
                gained, lost = paired(whole, chosen, right)
                cells += [
                    f"{sum(right(chosen[k]) for k in keys) / len(keys):.1%}",
                    f"{gained} / {lost}",
                    format_p(sign_test(gained, lost)),
                ]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
