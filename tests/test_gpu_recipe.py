"""The GPU recipe (scripts/gpu/) end to end on the CPU, with the tiny random model.

The same scripts run on a GPU machine; here they check that the data travels as Example
records with its databases, the base arrives in two halves, training logs validation
execution accuracy after each epoch, and the adapter comes back in pieces that load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from smolsql.cli import main
from smolsql.data.sample import SCRIPT, build_sqlite
from smolsql.models import ModelSpec, load_model, resolve_model
from smolsql.records import Example, read_jsonl

SCRIPTS = Path(__file__).parents[1] / "scripts" / "gpu"


def spider_folder(root: Path) -> Path:
    build_sqlite(SCRIPT, root / "database" / "shop" / "shop.sqlite")
    pairs = [
        ("How many artists?", "SELECT count(*) FROM artist"),
        ("Albums in Lisbon?", "SELECT title FROM album"),
    ] * 3
    items = [{"db_id": "shop", "question": q, "query": s} for q, s in pairs]
    (root / "train.json").write_text(json.dumps(items))
    return root / "train.json"


def test_data_command_writes_examples_with_their_databases(tmp_path: Path, capsys) -> None:
    spider = spider_folder(tmp_path / "spider")
    out = tmp_path / "gpu" / "dev.jsonl"
    databases = str(tmp_path / "gpu" / "database")
    args = ["data", "--data", str(spider), "--out", str(out), "--value-hints"]
    assert main([*args, "--databases", databases]) == 0
    examples = list(read_jsonl(out, Example))
    assert len(examples) == 6 and "CREATE TABLE artist" in examples[0].schema
    assert examples[0].db_path == str(tmp_path / "gpu" / "database" / "shop" / "shop.sqlite")
    assert Path(examples[0].db_path).exists() and examples[0].hints == ()
    assert examples[1].hints == ("customer.city = 'Lisbon'",)  # "Albums in Lisbon?"
    assert main(["data", "--data", str(tmp_path / "none.json"), "--out", str(out)]) == 2


def test_device_script_trains_and_the_pieces_come_back(tiny_model_dir: Path, tmp_path: Path):
    spider = spider_folder(tmp_path / "spider")
    gpu = tmp_path / "gpu"
    for name, flags in (("train", []), ("dev", ["--databases", str(gpu / "data" / "database")])):
        out = str(gpu / "data" / f"{name}.jsonl")
        assert main(["data", "--data", str(spider), "--out", out, *flags]) == 0
    for half, data in ((1, b"first half "), (2, b"second half")):
        (gpu / f"base-{half}").mkdir()
        (gpu / f"base-{half}" / f"base-part-0{half - 1}").write_bytes(data)
    env = {
        **os.environ,
        "GPU_DIR": str(gpu),
        "SMOLSQL_GPU_STAGE": str(tmp_path / "stage"),
        "PYTHON": sys.executable,
        "OUT": str(tmp_path / "out"),
    }

    def device(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(SCRIPTS / "device.sh"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    assert device("train").returncode == 2  # the first half was never staged
    assert device("stage").returncode == 0
    trained = device(
        "train",
        "--model",
        str(tiny_model_dir),
        "--num-train-epochs",
        "1",
        "--max-length",
        "512",
        "--eval-fraction",
        "0",
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert (tmp_path / "stage" / "base.gguf").read_bytes() == b"first half second half"
    pieces = sorted((tmp_path / "out").iterdir())
    assert all(p.stat().st_size <= 15 * 2**20 for p in pieces)
    run = tmp_path / "run"
    collect = subprocess.run(
        ["bash", str(SCRIPTS / "collect.sh"), str(tmp_path / "out"), str(run)],
        capture_output=True,
        text=True,
    )
    assert collect.returncode == 0, collect.stderr
    rows = [json.loads(line) for line in (run / "metrics.jsonl").open()]
    assert [r["epoch"] for r in rows if "eval_execution_accuracy" in r] == [1.0]
    spec = resolve_model(str(run / "final"))
    assert spec == ModelSpec(str(tiny_model_dir), str(run / "final"))
    load_model(spec)  # the adapter that came back loads on its base
    assert json.loads((run / "best" / "best.json").read_text())["epoch"] == 1.0
