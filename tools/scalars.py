#!/usr/bin/env python3
"""Every scalar of a run folder but fps (wall-clock speed, other in every run) as JSON
(tag -> [[step, value], ...]), read with tensorboard's own reader.

Used to prove that a change left training unchanged: run the same short command before and
after, dump both, and compare the files byte for byte:

    python train_a2c_pong.py --max-frames 60000 --runs-dir /tmp/before --name before
    python tools/scalars.py /tmp/before/*-before > before.json
"""

from __future__ import annotations

import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def read_scalars(run_dir: str) -> dict[str, list[list[float]]]:
    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    tags = sorted(tag for tag in acc.Tags()["scalars"] if tag != "fps")
    return {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in tags}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/scalars.py RUN_DIR", file=sys.stderr)
        return 2
    found = read_scalars(argv[0])
    if not found:
        print(f"error: {argv[0]}: no scalars (not a run folder?)", file=sys.stderr)
        return 2
    json.dump(found, sys.stdout, indent=None)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
