"""Wall time and peak memory of one `smolsql ask` process: cold (empty cache) and warm.

Cold pays the one-time GGUF dequantization; warm loads the cached folder.
Run: .venv/bin/python benchmarks/ask_startup.py [--db PATH] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMOLSQL = str(Path(sys.executable).with_name("smolsql"))


def run_once(question: str, db: str, cache: str) -> tuple[float, float]:
    """One `smolsql ask` in a child process: (seconds, peak RSS in MB)."""
    env = {**os.environ, "SMOLSQL_CACHE": cache}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [SMOLSQL, "ask", question, "--db", db],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"smolsql failed:\n{stderr.decode()}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sample")
    parser.add_argument("--question", default="How many artists are there?")
    parser.add_argument("--runs", type=int, default=3, help="warm runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        cold, cold_mb = run_once(args.question, args.db, cache)
        warm = [run_once(args.question, args.db, cache) for _ in range(args.runs)]
    print(f"cold (empty cache): {cold:.1f} s, peak RSS {cold_mb:.0f} MB")
    print(
        f"warm (median of {len(warm)}): {statistics.median(w[0] for w in warm):.1f} s, "
        f"peak RSS {max(w[1] for w in warm):.0f} MB"
    )


if __name__ == "__main__":
    main()
