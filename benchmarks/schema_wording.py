"""Ask questions in the schema's words: does putting them back help the model? (study #33)

Spider-Syn's questions name things by the words a person would use (`vocalist`, `town`)
where Spider's used the schema's (`singer`, `city`), and the default model answers them
less well. This rewrites each question word the schema lacks into the schema word it
stands for, by a table learned from Spider-Syn's rewrites of Spider's training questions
(`synonyms.aligned_pairs`, the held-out databases left out). A pair is kept only where it
was right: of the training questions in which the rewriter would have fired (the
schema has the word, not the one said), the share whose Spider question did use the
schema's word (`number` -> code fires often and is rarely meant; `client` -> customer
is meant 346 times of 347). Nothing here is learned from validation.

  python benchmarks/schema_wording.py write --data ../shared/data/spider/dev_syn.json --out DIR
  smolsql predict --data DIR/dev_syn.json --out RUN && smolsql eval RUN
  python benchmarks/schema_wording.py compare BASELINE_RUN RUN

`compare` pairs the two runs by example id (the questions' text differs, so `smolsql
compare` cannot) and gives the sign test for the default and the greedy answer.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from synonyms import DATA, aligned_pairs  # this folder's (on sys.path)

from smolsql.data.loaders import read_database_names
from smolsql.evaluate.report import format_p, greedy_right, is_right, paired, sign_test
from smolsql.lexical import words
from smolsql.records import Score, read_jsonl

MIN_FIRED = 3
"""Training questions a pair must fire on for its precision to count."""


def schema_words(tables: dict) -> set[str]:
    """The words of a Spider tables.json entry's table and column names."""
    names = tables["table_names_original"] + [c for _, c in tables["column_names_original"]]
    return {w for name in names for w in words(name)}


def wording_table(
    spider: list[dict], syn: list[dict], schemas: dict[str, set[str]], excluded: set[str],
    min_count: int, min_precision: float,
) -> dict[str, list[tuple[float, str]]]:  # fmt: skip
    """Said word -> [(precision, schema word)], the pairs right at least `min_precision`."""
    pairs = aligned_pairs(spider, syn, excluded)
    said_for = {}
    for (said, word), n in pairs.items():
        if n >= min_count and " " not in said:
            said_for.setdefault(said, []).append(word)
    fired: Counter = Counter()
    meant: Counter = Counter()
    for plain, reworded in zip(spider, syn, strict=True):
        if plain["db_id"] in excluded:
            continue
        schema, before = schemas[plain["db_id"]], set(words(plain["question"]))
        for said in set(words(reworded["question"])) - schema:
            for word in said_for.get(said, ()):
                if word in schema:
                    fired[said, word] += 1
                    meant[said, word] += word in before and said not in before
    table: dict[str, list[tuple[float, str]]] = {}
    for (said, word), n in fired.items():
        if n >= MIN_FIRED and meant[said, word] / n >= min_precision:
            table.setdefault(said, []).append((meant[said, word] / n, word))
    return table


def in_schema_words(question: str, schema: set[str], table: dict) -> str:
    """`question` with each word the schema lacks put as the schema's word it stands for."""
    out = []
    for token in re.findall(r"\w+|\W+", question):
        stems = words(token)
        known = [p for p in table.get(stems[0], ()) if p[1] in schema] if len(stems) == 1 else []
        if not known or stems[0] in schema:
            out.append(token)
            continue
        word = max(known)[1]
        if token.lower().endswith("s") and not stems[0].endswith("s"):
            word += "s"  # a plural stays one
        out.append(word.capitalize() if token[0].isupper() else word)
    return "".join(out)


def write(args: argparse.Namespace) -> None:
    schemas = {t["db_id"]: schema_words(t) for t in json.loads(args.tables.read_text())}
    excluded = set(read_database_names(args.exclude_databases))
    spider, syn = json.loads(args.spider.read_text()), json.loads(args.syn.read_text())
    table = wording_table(spider, syn, schemas, excluded, args.min_count, args.min_precision)
    questions = json.loads(args.data.read_text())
    out = [
        {**q, "question": in_schema_words(q["question"], schemas[q["db_id"]], table)}
        for q in questions
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / args.data.name).write_text(json.dumps(out, indent=1) + "\n")
    databases = args.out / "database"
    if not databases.exists():
        databases.symlink_to((args.data.parent / "database").resolve())
    changed = sum(a["question"] != b["question"] for a, b in zip(questions, out, strict=True))
    pairs = sum(len(v) for v in table.values())
    print(f"{pairs} pairs kept; {changed} of {len(out)} questions reworded into {args.out}")


def compare(args: argparse.Namespace) -> None:
    runs = [
        {s.prediction.example.id: s for s in read_jsonl(run / "scores.jsonl", Score)}
        for run in (args.baseline, args.run)
    ]
    for label, right in (("default", is_right), ("greedy", greedy_right)):
        accuracy = [sum(map(right, run.values())) / len(run) for run in runs]
        gained, lost = paired(runs[0], runs[1], right)
        print(
            f"{label}: {accuracy[0]:.1%} -> {accuracy[1]:.1%}, right only with the schema's "
            f"words {gained}, only without {lost}, p {format_p(sign_test(gained, lost))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    w = commands.add_parser("write", help="write the questions reworded")
    w.add_argument("--data", type=Path, required=True, help="a Spider-format questions file")
    w.add_argument("--out", type=Path, required=True, help="folder for the reworded file")
    w.add_argument("--tables", type=Path, default=DATA / "tables.json")
    w.add_argument("--spider", type=Path, default=DATA / "train.json")
    w.add_argument("--syn", type=Path, default=DATA / "train_syn.json")
    w.add_argument("--exclude-databases", default="configs/heldout-databases.txt")
    w.add_argument("--min-count", type=int, default=2, help="rewrites a pair needs")
    w.add_argument("--min-precision", type=float, default=0.8, help="share meant, to keep")
    c = commands.add_parser("compare", help="pair two scored runs by example id")
    c.add_argument("baseline", type=Path)
    c.add_argument("run", type=Path)
    args = parser.parse_args()
    write(args) if args.command == "write" else compare(args)


if __name__ == "__main__":
    main()
