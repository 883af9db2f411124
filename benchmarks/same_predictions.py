"""Whether two runs predicted the same, record for record, apart from how long each took.

A refactor that moves code must leave every prediction as it was: run `smolsql predict`
with the same model and data on the old commit and on the new one (the old one from a
git worktree, with PYTHONPATH=WORKTREE/src), then compare the two predictions.jsonl.

Run: .venv/bin/python benchmarks/same_predictions.py OLD/predictions.jsonl NEW/predictions.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TIMING = ("latency_ms",)
"""Fields that differ from one run to the next by nature."""


def records(path: Path) -> list[str]:
    """Each prediction as canonical JSON, its timing left out."""
    out = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        for key in TIMING:
            record.pop(key, None)
        out.append(json.dumps(record, sort_keys=True))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    old, new = records(args.old), records(args.new)
    same = sum(a == b for a, b in zip(old, new, strict=False))
    print(f"{len(old)} and {len(new)} predictions; identical apart from timing: {same}")
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if a != b:
            first, second = json.loads(a), json.loads(b)
            changed = sorted(k for k in first if first[k] != second.get(k))
            print(f"first difference: record {i}, in {', '.join(changed)}")
            break
    return 0 if same == len(old) == len(new) else 1


if __name__ == "__main__":
    sys.exit(main())
