"""The mean of two or more full fine-tunes of one base (a "model soup").

Issue #33: runs/spider-mix-linked-more went on from the default's run and lowered eval loss
without changing what it answers; the mean of the two ends is the cheap third point (step
7). Step 9 averaged two runs from one start with different seeds
(configs/spider-mix-linked-seed43.yaml; docs/unseen-databases.md). The
folders must hold the same tensors (full fine-tunes, `final/`); the result is a folder of
the same form, which `smolsql extract` then turns into an adapter as usual.
Run: .venv/bin/python benchmarks/average_weights.py RUN_A/final RUN_B/final --out FOLDER
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

WEIGHTS = "model.safetensors"


def average(folders: list[Path], out: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    states = [load_file(folder / WEIGHTS) for folder in folders]
    names = set(states[0])
    if any(set(state) != names for state in states[1:]):
        raise SystemExit("the folders hold different tensors: not fine-tunes of one base")
    mean = {
        name: torch.stack([s[name].float() for s in states]).mean(0).to(states[0][name].dtype)
        for name in sorted(names)
    }
    shutil.copytree(folders[0], out, ignore=shutil.ignore_patterns(WEIGHTS))
    save_file(mean, out / WEIGHTS, metadata={"format": "pt"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="full fine-tunes' folders")
    parser.add_argument("--out", type=Path, required=True, help="new folder for the mean")
    args = parser.parse_args()
    if len(args.folders) < 2:
        raise SystemExit("name at least two folders to average")
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; name a new folder")
    average(args.folders, args.out)
    print(f"the mean of {len(args.folders)} models in {args.out}")


if __name__ == "__main__":
    main()
