"""Which llama.cpp build to ship: each compiled library's speed and answers on this machine.

A build is a folder of llama.cpp shared libraries (the `llama_cpp/lib` of an installed
llama-cpp-python, or of a wheel built with scripts/llama-cpp-build.sh's flags). Each runs
in fresh processes with LLAMA_CPP_LIB_PATH pointing at it, on the default model's GGUF
(SMOLSQL_GGUF_TYPE, Q8_0 by default):
  speed   prompt tokens/s (a validation prompt computed from nothing, as one batch per 256
          tokens) and ms per decode step for 1 and for 8 sequences (greedy, candidates)
  answers `smolsql predict` (the default 8 candidates) and `smolsql eval` on --data, into
          OUT/NAME/: execution accuracy, greedy, p50 latency, answers equal to the first build's
  --emulate CPU  also runs the llama.cpp check (one real prompt, `smolsql doctor`'s) under
          qemu's user-mode emulation of an older CPU (e.g. Haswell: AVX2, no AVX-512): does
          a library built here run on a machine with fewer instructions?
Run: .venv/bin/python benchmarks/llama_builds.py default=DIR native=DIR portable=DIR
       [--limit N] [--emulate Haswell] [--out benchmarks/results/llama-builds]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DEV = "../shared/data/spider/dev.json"


def speed() -> dict:
    """In the child: prompt tokens/s and decode-step ms with the library it was started on."""
    import llama_cpp

    from smolsql.backends import GenerationSettings
    from smolsql.backends.gguf import gguf_file
    from smolsql.backends.llamacpp import LlamaCppBackend
    from smolsql.data.loaders import load_spider
    from smolsql.models import resolve_model
    from smolsql.prompt import example_prompt
    from smolsql.settings import env

    gguf = gguf_file(resolve_model(None), env("SMOLSQL_GGUF_TYPE") or "")
    backend = LlamaCppBackend(gguf, settings=GenerationSettings(prefix_cache=0))
    prompts = [example_prompt(e) for e in load_spider(DEV)[::24]]
    token_lists = [backend._tokens(p) for p in prompts]
    backend._feed(token_lists[0])  # warm-up
    start = time.perf_counter()
    for tokens in token_lists:
        backend._forget()
        backend._feed(tokens)
    prompt_s = time.perf_counter() - start
    steps = {}
    for width in (1, 8):
        backend._forget()
        backend._feed(token_lists[0])
        n_past = len(token_lists[0])
        for seq in range(1, width):
            llama_cpp.llama_memory_seq_cp(backend._memory, 0, seq, 0, n_past)
        start = time.perf_counter()
        for step in range(32):
            backend._decode([(100, n_past + step, s, True) for s in range(width)])
        steps[width] = (time.perf_counter() - start) / 32 * 1000
    return {
        "prompt_tokens_per_s": round(sum(map(len, token_lists)) / prompt_s, 1),
        "prompts": len(token_lists),
        "decode_step_ms_1_sequence": round(steps[1], 2),
        "decode_step_ms_8_sequences": round(steps[8], 2),
        "system_info": llama_cpp.llama_print_system_info().decode().strip(),
    }


def run(command: list[str], library: str, check: bool = True, **extra: str) -> str:
    environment = {**os.environ, "LLAMA_CPP_LIB_PATH": library, **extra}
    done = subprocess.run(command, env=environment, capture_output=True, text=True)
    if done.returncode and check:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="*", help="NAME=FOLDER of llama.cpp libraries")
    parser.add_argument("--data", default=DEV)
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/llama-builds"))
    parser.add_argument("--emulate", help="a qemu CPU model to run the llama.cpp check on")
    parser.add_argument("--child-speed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_speed:
        print(json.dumps(speed()))
        return
    smolsql = [sys.executable, "-m", "smolsql.cli"]
    rows = []
    first_sql: list[str] | None = None
    for name, folder in (b.split("=", 1) for b in args.builds):
        row: dict = {"build": name, "libraries": folder}
        row.update(json.loads(run([sys.executable, __file__, "--child-speed"], folder)))
        if args.emulate:
            under = f"qemu-x86_64 -cpu {args.emulate}"
            doctor = [*smolsql, "doctor", "--json"]
            report = run(doctor, folder, check=False, SMOLSQL_LLAMACPP_CHECK_UNDER=under)
            found = {f["name"]: f for f in json.loads(report)}["llama.cpp"]
            row[f"check_on_{args.emulate}"] = found["detail"] if found["ok"] else found["fix"]
        out = args.out / name
        limit = ["--limit", str(args.limit)] if args.limit else []
        predict = ["predict", "--data", args.data, "--out", str(out), "--backend", "llamacpp"]
        run([*smolsql, *predict, "--max-new-tokens", "128", *limit], folder)
        run([*smolsql, "eval", str(out)], folder)
        metrics = json.loads((out / "metrics.json").read_text())
        sql = [json.loads(line)["sql"] for line in (out / "predictions.jsonl").open()]
        first_sql = first_sql or sql
        row.update(
            n=metrics["n"],
            execution_accuracy=metrics["execution_accuracy"],
            greedy_execution_accuracy=metrics.get("greedy_execution_accuracy"),
            latency_ms_median=metrics.get("latency_ms_median"),
            same_sql_as_first=sum(a == b for a, b in zip(sql, first_sql, strict=True)),
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "builds.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
