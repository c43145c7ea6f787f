#!/usr/bin/env python3
"""Every scalar of a run folder but fps (wall-clock speed, other in every run) as JSON
(tag -> [[step, value], ...]), read with tensorboard's own reader.

Used to prove that a change left training unchanged: run the same short command before and
after, dump both, and compare the files byte for byte:

    python train_a2c_pong.py --max-frames 60000 --runs-dir /tmp/before --name before
    python tools/scalars.py /tmp/before/*-before > before.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def event_reader(path: str | Path) -> EventAccumulator:
    """A run folder's event files (or one event file), every scalar point kept, read with
    tensorboard's own reader: the one reader of event files in this project."""
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0})  # 0: keep every point
    acc.Reload()
    return acc


def read_scalars(run_dir: str) -> dict[str, list[list[float]]]:
    acc = event_reader(run_dir)
    tags = sorted(tag for tag in acc.Tags()["scalars"] if tag != "fps")
    return {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in tags}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", help="a run folder holding its event files")
    args = p.parse_args(argv)
    if not Path(args.run_dir).is_dir():
        print(f"error: {args.run_dir}: not a folder", file=sys.stderr)
        return 2
    found = read_scalars(args.run_dir)
    if not found:
        print(f"error: {args.run_dir}: no scalars (not a run folder?)", file=sys.stderr)
        return 2
    json.dump(found, sys.stdout, indent=None)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
