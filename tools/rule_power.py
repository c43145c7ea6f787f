#!/usr/bin/env python3
"""How often the bf16 rule (tools/train_flags.py) passes a bf16 that needs `k` times float32's
frames to solve Pong: a simulation, not a measurement of Pong.

    python tools/rule_power.py [--trials 100000] [--float32 6] [--bf16 5] [--k 1.0 1.1 1.28]

Frames to solve are drawn from a log-normal fitted to the table's solved float32 CPU runs
(docs/seeds.csv); each trial draws the float32 runs and the bf16 runs (times k) afresh, every
run solving, and applies the rule's last part: the bf16 median at most the largest float32 run.
"""

from __future__ import annotations

import argparse

import numpy as np
import seeds


def pass_rate(log_frames: np.ndarray, k: float, n_float32: int, n_bf16: int, trials: int,
              rng: np.random.Generator) -> float:
    mu, sigma = log_frames.mean(), log_frames.std(ddof=1)
    float32 = rng.lognormal(mu, sigma, (trials, n_float32))
    bf16 = k * rng.lognormal(mu, sigma, (trials, n_bf16))
    return float(np.mean(np.median(bf16, axis=1) <= float32.max(axis=1)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=100_000)
    p.add_argument("--float32", type=int, default=6, help="float32 runs per trial")
    p.add_argument("--bf16", type=int, default=5, help="bf16 runs per trial")
    p.add_argument("--k", type=float, nargs="*", default=[1.0, 1.1, 1.28])
    args = p.parse_args()
    frames = np.log([r.frames for r in seeds.pool(seeds.read_table(), "float32") if r.state == "solved"])
    rng = np.random.default_rng(0)
    print(f"log-normal fit to {len(frames)} float32 runs: median {np.exp(frames.mean()) / 1e6:.2f}M, "
          f"sigma {frames.std(ddof=1):.3f}")
    for k in args.k:
        rate = pass_rate(frames, k, args.float32, args.bf16, args.trials, rng)
        print(f"bf16 needing {k:.2f}x float32's frames: passes {rate:.1%} of {args.trials:,} trials")


if __name__ == "__main__":
    main()
