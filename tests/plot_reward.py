#!/usr/bin/env python3
"""Plot a run's reward_100 against frames and against wall-clock minutes, from its event file.

    python tests/plot_reward.py runs/<run> reward_100.png [--stop-reward 18]

The README's training figure is made with this script from the run's own event file (read with
tensorboard's EventAccumulator). Needs matplotlib (in requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def load_reward_100(run_dir: Path) -> tuple[list[int], list[float], list[float]]:
    """(frames, minutes since the first point, reward_100) of every point in the run."""
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})  # 0: keep every point
    acc.Reload()
    if "reward_100" not in acc.Tags()["scalars"]:
        raise SystemExit(f"error: {run_dir}: no reward_100 scalar (no finished game, or not a run folder)")
    events = sorted(acc.Scalars("reward_100"), key=lambda e: e.step)
    start = events[0].wall_time
    return ([e.step for e in events], [(e.wall_time - start) / 60 for e in events],
            [e.value for e in events])


def plot(run_dir: Path, out: Path, stop_reward: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames, minutes, reward = load_reward_100(run_dir)
    fig, (by_frames, by_minutes) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    by_frames.plot([f / 1e6 for f in frames], reward)
    by_frames.set_xlabel("frames (millions)")
    by_frames.set_ylabel("reward_100 (mean of the last 100 games)")
    by_minutes.plot(minutes, reward)
    by_minutes.set_xlabel("wall-clock minutes")
    for ax in (by_frames, by_minutes):
        ax.axhline(stop_reward, color="gray", linestyle="--", linewidth=1)
        ax.grid(alpha=0.3)
    fig.suptitle(f"A2C on Pong: {run_dir.name}")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}: {len(frames)} points, last reward_100 {reward[-1]:.2f} at frame {frames[-1]:,}, "
          f"{minutes[-1]:.1f} min")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, help="a run folder holding an event file")
    p.add_argument("out", type=Path, help="the PNG to write")
    p.add_argument("--stop-reward", type=float, default=18.0, help="where to draw the goal line")
    args = p.parse_args()
    if not args.run_dir.is_dir():
        sys.exit(f"error: {args.run_dir}: not a folder")
    plot(args.run_dir, args.out, args.stop_reward)


if __name__ == "__main__":
    main()
