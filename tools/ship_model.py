#!/usr/bin/env python3
"""Write a run's model as a small file to commit: float16 weights with their provenance.

    python tools/ship_model.py runs/<run>/model_best.pt docs/pong_a2c.pt

The weights are stored in float16 (half the size of float32; `--play` widens them back to
float32 on load), beside the pipeline settings `--play` rebuilds the env from, and where they
came from: the commit the run was trained on (give it with --commit if the tree moved since),
its frames and date, its hyperparameters, and the package versions of the shipping machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import train_a2c_pong as t  # noqa: E402


def ship(source: Path, out: Path, commit: str) -> dict:
    data = t.load_file(source)
    t.load_model(source)  # refuses a file --play could not use
    half = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in data["model"].items()}
    config = {k: v for k, v in data["config"].items() if k != "runs_dir"}  # a path of the training box
    shipped = t.model_file(half, data["frame"], data["pipeline"], config, date=data["date"], commit=commit,
                           versions=t.versions())
    t.atomic_save(shipped, out)
    return shipped


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, help="model_best.pt (or checkpoint.pt) of a run")
    p.add_argument("out", type=Path, help="the file to write")
    p.add_argument("--commit", default=None, help="the commit the run was trained on (default: HEAD)")
    args = p.parse_args()
    commit = args.commit or subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                           cwd=Path(__file__).resolve().parent).stdout.strip()
    try:
        shipped = ship(args.source, args.out, commit)
    except t.UsageError as e:
        sys.exit(f"error: {e}")
    print(f"wrote {args.out}: {args.out.stat().st_size / 1e6:.1f} MB, frame {shipped['frame']:,}, "
          f"commit {commit[:12]}")


if __name__ == "__main__":
    main()
