#!/usr/bin/env python3
"""Throughput of the two backends, side by side in one process (a benchmark, not a test).

    python tests/bench_throughput.py [--frames N] [--envs 50] [--cuda]

Rows: vector (the default), async (vector with --async-envs) and ptan (the seed's pipeline).
Each trains for the same number of frames with the seed's hyperparameters; the report
gives frames per second, the share of wall time in env stepping (with experience bookkeeping,
and the envs' first reset), inference and the update (unpack_batch included), the frames per
second of env stepping alone (frames / env time), the ratios, and the time of one update with
the conv weights in the default layout and channels-last (the layout the program uses on CPU).
Machines here are shared and noisy: compare the ratios, measured in one run, rather than
absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import train_a2c_pong as t  # noqa: E402

VARIANTS = {  # row name: flags
    "vector": {"backend": "vector"},
    "async": {"backend": "vector", "async_envs": True},
    "ptan": {"backend": "ptan"},
}


def run(variant: str, frames: int, envs: int, cuda: bool, runs_dir: str) -> tuple[float, t.Timings]:
    cfg = t.Config(**VARIANTS[variant], envs=envs, max_frames=frames, cuda=cuda, runs_dir=runs_dir,
                   name=f"bench-{variant}", save_every=1e9)
    print(f"training {frames} frames: {variant} ...", flush=True)
    with contextlib.redirect_stdout(io.StringIO()):  # the run's own progress lines
        result = t.train(cfg)
    return result.frames / result.timings.total, result.timings


def update_ms(device: torch.device, channels_last: bool, repeats: int = 20) -> float:
    """Mean wall time of one a2c_update on a batch of 128 random Pong frames."""
    net = t.AtariA2C((4, 84, 84), 6).to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-3)
    states = torch.randint(0, 256, (128, 4, 84, 84), dtype=torch.uint8, device=device)
    actions = torch.randint(0, 6, (128,), device=device)
    targets = torch.randn(128, device=device)
    times = []
    for k in range(repeats + 3):  # 3 warm-up updates
        start = time.perf_counter()
        t.a2c_update(net, optimizer, states, actions, targets, t.Config())
        if device.type == "cuda":
            torch.cuda.synchronize()
        if k >= 3:
            times.append(time.perf_counter() - start)
    return 1000 * sum(times) / len(times)


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
        for variant in VARIANTS:
            rows[variant] = run(variant, args.frames, args.envs, args.cuda, runs)
    print(f"{'variant':8} {'fps':>8} {'env':>6} {'infer':>6} {'update':>6} {'env fps':>8}")
    for variant, (fps, tm) in rows.items():
        env = tm.total - tm.inference - tm.update
        print(f"{variant:8} {fps:8.0f} {env / tm.total:6.0%} {tm.inference / tm.total:6.0%} "
              f"{tm.update / tm.total:6.0%} {args.frames / env:8.0f}")
    dev = torch.device("cuda" if args.cuda else "cpu")
    plain, last = update_ms(dev, False), update_ms(dev, True)
    print(f"one update on {dev.type}: {plain:.1f} ms with default conv layout, {last:.1f} ms channels-last")
    print(f"ratio async/default: {rows['async'][0] / rows['vector'][0]:.2f}")
    print(f"ratio default/ptan: {rows['vector'][0] / rows['ptan'][0]:.2f}")


if __name__ == "__main__":
    main()
