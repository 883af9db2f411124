"""Build the synonym table schema linking can read (src/smolsql/synonyms.json).

Spider-Syn rewrote Spider's training questions with the words a person would use instead
of the schema's (`client` for customer, `nation` for country), keeping the SQL. Aligning
each question with its rewrite word by word (`lexical.words`, so plurals fold) gives the
pairs: a replaced word or two-word phrase, and the schema word it stands for. Pairs seen
fewer than --min-count times are left out. The held-out databases' questions are left
out too, so that what linking scores on them is not learned from them.

Run: python benchmarks/synonyms.py [--spider ../shared/data/spider/train.json]
     [--syn ../shared/data/spider/train_syn.json]
     [--exclude-databases configs/heldout-databases.txt] [--min-count 2]
     [--out src/smolsql/synonyms.json]
"""

from __future__ import annotations

import argparse
import difflib
import json
from collections import Counter
from pathlib import Path

from smolsql.data.loaders import read_database_names
from smolsql.lexical import words

DATA = Path("../shared/data/spider")


def aligned_pairs(spider: list[dict], syn: list[dict], excluded: set[str]) -> Counter:
    """(said, schema word) -> how often a rewrite put `said` where the question had the word."""
    pairs: Counter = Counter()
    for plain, reworded in zip(spider, syn, strict=True):
        if plain["db_id"] in excluded or plain["question"] == reworded["question"]:
            continue
        before, after = list(words(plain["question"])), list(words(reworded["question"]))
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "replace" and i2 - i1 == 1 and j2 - j1 in (1, 2):
                said = " ".join(after[j1:j2])
                if said != before[i1]:
                    pairs[(said, before[i1])] += 1
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spider", type=Path, default=DATA / "train.json")
    parser.add_argument("--syn", type=Path, default=DATA / "train_syn.json")
    parser.add_argument("--exclude-databases", default="configs/heldout-databases.txt")
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("src/smolsql/synonyms.json"))
    args = parser.parse_args()
    excluded = set(read_database_names(args.exclude_databases)) if args.exclude_databases else set()
    spider, syn = json.loads(args.spider.read_text()), json.loads(args.syn.read_text())
    pairs = aligned_pairs(spider, syn, excluded)
    kept = sorted(
        ([said, word, n] for (said, word), n in pairs.items() if n >= args.min_count),
        key=lambda row: (-row[2], row[0], row[1]),
    )
    table = {
        "about": "words people say for a schema's words, learned from Spider-Syn's rewrites "
        "of Spider's training questions (CC BY-SA 4.0 / MIT); built by benchmarks/synonyms.py",
        "min_count": args.min_count,
        "excluded_databases": sorted(excluded),
        "pairs": kept,
    }
    text = json.dumps({**table, "pairs": []}, indent=1)  # then one pair a line, to read
    rows = ",\n".join("  " + json.dumps(row) for row in kept)
    args.out.write_text(text.replace('"pairs": []', f'"pairs": [\n{rows}\n ]') + "\n")
    print(f"{len(kept)} pairs ({sum(r[2] for r in kept)} rewrites) of {len(pairs)} in {args.out}")


if __name__ == "__main__":
    main()
