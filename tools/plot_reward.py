#!/usr/bin/env python3
"""A run's record from its event files: reward_100 against frames and wall-clock hours, as a PNG
and (with --csv) a CSV of every point.

    python tools/plot_reward.py runs/<run> reward_100.png [--csv reward_100.csv] [--stop-reward 18]

Each segment of a run (the first, and one per --resume) writes its own event file, read here
with tensorboard's EventAccumulator. Wall seconds count each segment's start (envs, network,
--compile: the seconds before its event file, which config.json records) and its training, from
its file's first event. Left out: the time between segments (a stopped run waiting to be
resumed), and a killed segment's work past its last checkpoint, which the next segment trained
again. The CSV's columns: frames, wall_s, games (finished so far), reward_100.
Needs matplotlib (in requirements-dev.txt) for the PNG.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import NamedTuple

from scalars import event_reader


class Point(NamedTuple):
    frames: int
    wall_s: float
    games: int
    reward_100: float


def segment_starts(run_dir: Path) -> list[tuple[int, float]]:
    """(frame, startup_s) of each segment of the run, by frame (config.json's segment records), []
    if it has none: where it began, and its seconds before its event file (envs, network,
    --compile; 0 for runs from before the script recorded them)."""
    try:
        records = json.loads((run_dir / "config.json").read_text())["segments"]
        return sorted((int(s["frame"]), float(s.get("startup_s", 0.0))) for s in records)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def load_points(run_dir: Path) -> list[Point]:
    """One point per finished game, in order, over every segment of the run. A segment killed
    after its last checkpoint (SIGKILL, a lost session) wrote points that the next segment, resumed
    from that checkpoint, trains again: a segment's points and time count up to the frame the
    next one resumed at (its record in config.json), so that no game counts twice."""
    files = sorted(run_dir.glob("events.out.tfevents.*"), key=lambda f: int(f.name.split(".")[3]))
    readers = [acc for acc in map(event_reader, files) if acc.Tags()["scalars"]]
    firsts = [min(e.step for tag in acc.Tags()["scalars"] for e in acc.Scalars(tag)) for acc in readers]
    starts = segment_starts(run_dir)
    resumed = [frame for frame, _ in starts]
    points: list[Point] = []
    offset = 0.0  # training seconds of the segments before this one
    for k, acc in enumerate(readers):
        offset += next((s for frame, s in reversed(starts) if frame <= firsts[k]), 0.0)  # its startup
        start = acc.FirstEventTimestamp()
        cut = math.inf  # the last segment counts whole; another up to where the next one resumed
        if k + 1 < len(readers):
            cut = max((f for f in resumed if f < firsts[k + 1]), default=firsts[k + 1] - 1)
        tags = acc.Tags()["scalars"]
        for e in sorted(acc.Scalars("reward_100"), key=lambda e: e.step) if "reward_100" in tags else []:
            if e.step <= cut:
                points.append(Point(e.step, round(offset + e.wall_time - start, 1), len(points) + 1, e.value))
        offset += max((e.wall_time for tag in tags for e in acc.Scalars(tag) if e.step <= cut),
                      default=start) - start
    if not points:
        raise SystemExit(f"error: {run_dir}: no reward_100 scalar (no finished game, or not a run folder)")
    return points


def write_csv(points: list[Point], out: Path) -> None:
    with out.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(Point._fields)
        w.writerows((p.frames, f"{p.wall_s:.1f}", p.games, f"{p.reward_100:.3f}") for p in points)


def plot(points: list[Point], title: str, out: Path, stop_reward: float) -> None:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("error: the PNG needs matplotlib, which is not installed (pip install matplotlib, "
                         "or make dev)") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reward = [p.reward_100 for p in points]
    fig, (by_frames, by_hours) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    by_frames.plot([p.frames / 1e6 for p in points], reward)
    by_frames.set_xlabel("frames (millions)")
    by_frames.set_ylabel("reward_100 (mean of the last 100 games)")
    by_hours.plot([p.wall_s / 3600 for p in points], reward)
    by_hours.set_xlabel("wall-clock hours of training")
    for ax in (by_frames, by_hours):
        ax.axhline(stop_reward, color="gray", linestyle="--", linewidth=1)
        ax.grid(alpha=0.3)
    fig.suptitle(f"A2C on Pong: {title}")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path, help="a run folder holding its event files")
    p.add_argument("out", type=Path, help="the PNG to write")
    p.add_argument("--csv", type=Path, default=None, help="also write every point to this CSV")
    p.add_argument("--stop-reward", type=float, default=18.0, help="where to draw the goal line")
    args = p.parse_args()
    if not args.run_dir.is_dir():
        sys.exit(f"error: {args.run_dir}: not a folder")
    points = load_points(args.run_dir)
    plot(points, args.run_dir.name, args.out, args.stop_reward)
    if args.csv is not None:
        write_csv(points, args.csv)
    last = points[-1]
    print(f"wrote {args.out}: {len(points)} points, last reward_100 {last.reward_100:.2f} at frame "
          f"{last.frames:,}, {last.wall_s / 60:.1f} min of training")


if __name__ == "__main__":
    main()
