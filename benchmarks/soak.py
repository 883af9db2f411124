"""Soak test: N concurrent clients against `smolsql serve` on loopback for a bounded time.

Starts the API in its own process (default model and backend unless told otherwise), then
each client posts questions about the sample database to /v1/query (question -> SQL -> rows)
in a loop. Reports requests served, errors, p50/p95 latency and the server's memory growth.
With --clients 1 the p50 is the API's latency for one question at a time.
Run: .venv/bin/python benchmarks/soak.py [--clients 4] [--seconds 120] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from smolsql.data.sample import QUESTIONS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post(url: str, body: dict) -> tuple[int, dict]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def start_server(port: int, backend: str) -> subprocess.Popen:
    smolsql = str(Path(sys.executable).with_name("smolsql"))
    command = [smolsql, "serve", "--port", str(port), "--db", "sample", "--backend", backend]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("server did not start in 300 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--out", help="also write the figures as JSON")
    args = parser.parse_args()

    port = free_port()
    server = start_server(port, args.backend)
    url = f"http://127.0.0.1:{port}/v1/query"
    try:
        post(url, {"database": "sample", "question": QUESTIONS[0]})  # warm-up
        rss_start = rss_mb(server.pid)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def client(offset: int) -> None:
            i = offset
            while time.monotonic() < stop_at:
                question = QUESTIONS[i % len(QUESTIONS)]
                start = time.perf_counter()
                status, _ = post(url, {"database": "sample", "question": question})
                with lock:
                    latencies.append(time.perf_counter() - start)
                    statuses[status] = statuses.get(status, 0) + 1
                i += 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss_end = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    ok = statuses.get(200, 0)
    # 400 is an answer too: the model's SQL was refused or failed, and the client was told why.
    errors = sum(n for code, n in statuses.items() if code not in (200, 400))
    report = {
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": len(latencies),
        "rows_returned": ok,
        "sql_not_runnable_400": statuses.get(400, 0),
        "errors": errors,
        "requests_per_s": round(len(latencies) / args.seconds, 2),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(statistics.quantiles(latencies, n=20)[-1], 3),
        "rss_start_mb": round(rss_start),
        "rss_end_mb": round(rss_end),
        "rss_growth_mb": round(rss_end - rss_start, 1),
    }
    for key, value in report.items():
        print(f"{key}: {value}")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
