#!/usr/bin/env python3
"""Frames to learn, the default pipeline against the seed's, on "catch" (a benchmark, not a test).

    python tools/bench_frames_to_solve.py [--seeds 1 2 3 4 5] [--max-frames N]

Issue 3 asks that the default backend need no more frames to solve than the seed's pipeline
(`--backend ptan`) with the same seed. On Pong that takes millions of frames per run, which
needs a GPU; on the CPU this runs the comparison on catch (tools/catch_env.py), the task of
tests/test_learning.py with its hyperparameters and bar (TASK, BAR): both pipelines train with the
program's own loop, network and update, and differ only in the experience source (ours over
a vector of games, or ptan's ExperienceSourceFirstLast and PolicyAgent over a list of
gymnasium envs) and so in where random numbers come from. For each seed it prints the frames
each needed to pass the bar (or that it did not within the frame limit), then the medians; its
last line is `median frames to bar, default/ptan: X.XX`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catch_env import BAR, FRAMES, TASK, CatchEnv, CatchVectorEnv  # noqa: E402

import train_a2c_pong as t  # noqa: E402


def frames_to_bar(backend: str, seed: int, runs_dir: str, max_frames: int) -> tuple[int | None, float]:
    """Frames the run needed to pass the bar (None if it did not) and its wall seconds."""
    cfg = t.Config(runs_dir=runs_dir, max_frames=max_frames, stop_reward=BAR, seed=seed, backend=backend,
                   save_every=1e9, **TASK)
    env = CatchVectorEnv(cfg.envs) if backend == "vector" else [CatchEnv(seed + i) for i in range(cfg.envs)]
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the run's own progress lines
        result = t.train(cfg, env=env)
    return (result.frames if result.solved else None), time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--max-frames", type=int, default=FRAMES, help="frames a run may take")
    args = p.parse_args()
    print(f"catch, bar {BAR} over 100 games, at most {args.max_frames:,} frames, {TASK}")
    print(f"{'seed':>4} {'default':>9} {'ptan':>9} {'s default':>10} {'s ptan':>7}")
    needed: dict[str, list[float]] = {"vector": [], "ptan": []}
    with tempfile.TemporaryDirectory() as runs:
        for seed in args.seeds:
            row = {b: frames_to_bar(b, seed, runs, args.max_frames) for b in needed}
            for b, (frames, _) in row.items():
                needed[b].append(frames if frames is not None else float("inf"))
            cells = [f"{f:,}" if f is not None else "not" for f, _ in row.values()]
            print(f"{seed:4} {cells[0]:>9} {cells[1]:>9} {row['vector'][1]:10.0f} {row['ptan'][1]:7.0f}",
                  flush=True)
    medians = {b: statistics.median(v) for b, v in needed.items()}
    print(f"median frames to bar: default {medians['vector']:,.0f}, ptan {medians['ptan']:,.0f}")
    print(f"median frames to bar, default/ptan: {medians['vector'] / medians['ptan']:.2f}")


if __name__ == "__main__":
    main()
