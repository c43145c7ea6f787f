#!/usr/bin/env python3
"""--play's wall time alone and beside a training run, side by side (a benchmark, not a test).

    python tools/bench_play.py [--model docs/pong_a2c.pt] [--games 3] [--threads 1 2]

For each torch thread count it times `train_a2c_pong.py --play MODEL --episodes GAMES
--torch-threads N` twice: on an idle machine, then while the default training command runs
beside it in another process (started here, in its own session as a second terminal would be,
and stopped once the plays are done). Single-frame inference is small work; with more threads
than free cores, torch's OpenMP threads spin against the training run's threads.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "train_a2c_pong.py"


def play_seconds(model: str, games: int, threads: int) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(SCRIPT), "--play", model, "--episodes", str(games),
                           "--torch-threads", str(threads)], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, proc.stdout.strip().splitlines()[-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "docs" / "pong_a2c.pt"))
    p.add_argument("--games", type=int, default=3)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.games} games of {args.model} per row")
    alone = {n: play_seconds(args.model, args.games, n) for n in args.threads}
    with tempfile.TemporaryDirectory() as runs:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = Path(runs) / "train.log"
        with log.open("w") as out:
            trainer = subprocess.Popen([sys.executable, str(SCRIPT), "--runs-dir", runs], stdout=out,
                                       stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            while "[status]" not in log.read_text():  # training is under way
                time.sleep(1)
            beside = {n: play_seconds(args.model, args.games, n) for n in args.threads}
        finally:
            trainer.terminate()
            trainer.wait()
    print(f"{'torch threads':>13} {'alone s':>8} {'beside training s':>18} {'ratio':>6}")
    for n in args.threads:
        print(f"{n:>13} {alone[n][0]:8.1f} {beside[n][0]:18.1f} {beside[n][0] / alone[n][0]:6.2f}")
    for n in args.threads:  # the same games either way: the scores do not depend on the load
        print(f"{n} threads: alone: {alone[n][1]}\n{n} threads: beside: {beside[n][1]}")


if __name__ == "__main__":
    main()
