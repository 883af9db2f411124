"""Does tidying Spider's gold SQL keep its meaning, and how many tokens does it save?

Runs each gold query as written and as `tidy_sql` writes it on its own SQLite database
(read-only) and compares the rows; counts SmolLM2 tokens of both forms.

Run: .venv/bin/python benchmarks/tidy_gold.py --spider ../shared/data/spider [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

from smolsql.models import OFFLINE_BASE, ModelSpec, load_tokenizer
from smolsql.sql.text import tidy_sql


def rows(db: Path, sql: str) -> list | None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.text_factory = lambda b: b.decode(errors="replace")
    try:
        return con.execute(sql).fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spider", type=Path, default=Path("../shared/data/spider"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    tokenizer = load_tokenizer(ModelSpec(OFFLINE_BASE))
    result = {}
    for name in ("train.json", "dev.json"):
        items = json.loads((args.spider / name).read_text())
        counts = {
            "queries": len(items),
            "changed": 0,
            "ran": 0,
            "same_rows": 0,
            "tokens_gold": 0,
            "tokens_tidy": 0,
        }
        for item in items:
            gold, tidy = item["query"], tidy_sql(item["query"])
            counts["changed"] += gold != tidy
            counts["tokens_gold"] += len(tokenizer(gold)["input_ids"])
            counts["tokens_tidy"] += len(tokenizer(tidy)["input_ids"])
            db = args.spider / "database" / item["db_id"] / f"{item['db_id']}.sqlite"
            before = rows(db, gold)
            if before is not None:
                counts["ran"] += 1
                counts["same_rows"] += before == rows(db, tidy)
        counts["tokens_saved"] = round(1 - counts["tokens_tidy"] / counts["tokens_gold"], 3)
        result[name] = counts
        print(name, counts)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
