"""Wall time and peak memory of `smolsql ask`: cold (empty cache) and warm.

Cold pays the one-time GGUF dequantization; warm loads the cached folder.
Run: .venv/bin/python benchmarks/ask_startup.py [--db PATH] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMOLSQL = str(Path(sys.executable).with_name("smolsql"))


def run_once(question: str, db: str, cache: str) -> tuple[float, float]:
    """One `smolsql ask --run` in a child process: (seconds, peak RSS in MB)."""
    env = {**os.environ, "SMOLSQL_CACHE": cache}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "import resource, runpy, sys; sys.argv = sys.argv[1:];"
         "runpy.run_path(sys.argv[0], run_name='__main__')", SMOLSQL,
         "ask", question, "--db", db, "--run"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"smolsql failed:\n{proc.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sample")
    parser.add_argument("--question", default="How many artists are there?")
    parser.add_argument("--runs", type=int, default=3, help="warm runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        cold, cold_mb = run_once(args.question, args.db, cache)
        warm = [run_once(args.question, args.db, cache)[0] for _ in range(args.runs)]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"cold (empty cache): {cold:.1f} s, peak RSS {cold_mb:.0f} MB")
    print(f"warm (median of {len(warm)}): {statistics.median(warm):.1f} s")
    print(f"peak RSS over all runs: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
