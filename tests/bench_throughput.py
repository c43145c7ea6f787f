#!/usr/bin/env python3
"""Throughput of the two backends, side by side in one process (a benchmark, not a test).

    python tests/bench_throughput.py [--frames N] [--envs 50] [--cuda]

Each backend trains for the same number of frames with the seed's hyperparameters; the report
gives frames per second, the share of wall time in env stepping (with experience bookkeeping,
and the envs' first reset), inference and the update (unpack_batch included), the frames per
second of env stepping alone (frames / env time), and the ratio. Machines here are shared and
noisy: compare the ratio, measured in one run, rather than absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import train_a2c_pong as t  # noqa: E402


def run(backend: str, frames: int, envs: int, cuda: bool, runs_dir: str) -> tuple[float, t.Timings]:
    cfg = t.Config(backend=backend, envs=envs, max_frames=frames, cuda=cuda, runs_dir=runs_dir,
                   name=f"bench-{backend}", save_every=1e9)
    print(f"training {frames} frames with --backend {backend} ...", flush=True)
    with contextlib.redirect_stdout(io.StringIO()):  # the run's own progress lines
        result = t.train(cfg)
    return result.frames / result.timings.total, result.timings


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=12_800)
    p.add_argument("--envs", type=int, default=50)
    p.add_argument("--cuda", action="store_true")
    args = p.parse_args()
    device = f"{cpu_name()}" + (f", {torch.cuda.get_device_name()}" if args.cuda else "")
    print(f"machine: {os.cpu_count()} cores, {device}, torch {torch.__version__}, "
          f"{args.envs} envs, {args.frames} frames per backend")
    rows = {}
    with tempfile.TemporaryDirectory() as runs:
        for backend in ("vector", "ptan"):
            rows[backend] = run(backend, args.frames, args.envs, args.cuda, runs)
    print(f"{'backend':8} {'fps':>8} {'env':>6} {'infer':>6} {'update':>6} {'env fps':>8}")
    for backend, (fps, tm) in rows.items():
        env = tm.total - tm.inference - tm.update
        print(f"{backend:8} {fps:8.0f} {env / tm.total:6.0%} {tm.inference / tm.total:6.0%} "
              f"{tm.update / tm.total:6.0%} {args.frames / env:8.0f}")
    print(f"ratio default/ptan: {rows['vector'][0] / rows['ptan'][0]:.2f}")


if __name__ == "__main__":
    main()
