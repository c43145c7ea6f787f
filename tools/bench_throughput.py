#!/usr/bin/env python3
"""Throughput of the program's variants, side by side in one process (a benchmark, not a test).

    python tools/bench_throughput.py [--frames N] [--envs 50] [--cuda] [--variants vector two-pass ...]

Rows: vector (the default: one backward pass, grad statistics every 10th update), two-pass (the
notebook's update: two backward passes every update, --grad-stats-every 1), bf16 (--bf16; refused
where the hardware has no native bfloat16), async (--async-envs), ptan (the notebook's experience
pipeline), and three splits of the cores between the vector env's threads and torch's.
Each trains for the same number of frames with the notebook's hyperparameters; the report
gives frames per second, the share of wall time in env stepping (with experience bookkeeping,
and the envs' first reset), inference and the update (unpack_batch included), the frames per
second of env stepping alone (frames / env time), the time of one update (one pass, two passes,
bf16) and the ratios. Machines here are shared and noisy: compare the ratios, measured in one
run, rather than absolute numbers across runs.
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
    "vector": {},
    "two-pass": {"grad_stats_every": 1},
    "bf16": {"bf16": True},
    "async": {"async_envs": True},
    "ptan": {"backend": "ptan"},
    "env1+torch1": {"env_threads": 1, "torch_threads": 1},
    "env1": {"env_threads": 1},
    "torch1": {"torch_threads": 1},
}


def run(variant: str, frames: int, envs: int, cuda: bool, runs_dir: str) -> tuple[float, t.Timings] | str:
    """(frames per second, timings), or why the variant does not run here."""
    cfg = t.Config(**VARIANTS[variant], envs=envs, max_frames=frames, cuda=cuda, runs_dir=runs_dir,
                   name=f"bench-{variant}", save_every=1e9)
    print(f"training {frames} frames: {variant} ...", flush=True)
    threads = torch.get_num_threads()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the run's own progress lines
            result = t.train(cfg)
    except t.UsageError as e:
        return str(e).split(";")[0]
    finally:
        torch.set_num_threads(threads)  # --torch-threads sets it for the whole process
    return result.frames / result.timings.total, result.timings


def update_ms(device: torch.device, repeats: int = 20, with_grad_stats: bool = False,
              placed: bool = True, **flags) -> float:
    """Mean wall time of one a2c_update on a batch of 128 random Pong frames, the net placed as
    the program places it (channels-last conv weights on the CPU) or, placed=False, in the default
    layout; flags: Config fields; with_grad_stats: the second backward pass."""
    cfg = t.Config(**flags)
    net = t.AtariA2C((4, 84, 84), 6)
    net = t.place(net, device, cfg.bf16) if placed else net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-3)
    states = torch.randint(0, 256, (128, 4, 84, 84), dtype=torch.uint8, device=device)
    actions = torch.randint(0, 6, (128,), device=device)
    targets = torch.randn(128, device=device)
    times = []
    for k in range(repeats + 3):  # 3 warm-up updates
        start = time.perf_counter()
        t.a2c_update(net, optimizer, states, actions, targets, cfg, with_grad_stats)
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
    p.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(VARIANTS),
                   help="training rows to run (none: only the update timings)")
    args = p.parse_args()
    device = f"{cpu_name()}" + (f", {torch.cuda.get_device_name()}" if args.cuda else "")
    print(f"machine: {os.cpu_count()} cores, {device}, torch {torch.__version__}, "
          f"{args.envs} envs, {args.frames} frames per variant")
    rows = {}
    with tempfile.TemporaryDirectory() as runs:
        for variant in args.variants:
            rows[variant] = run(variant, args.frames, args.envs, args.cuda, runs)
    print(f"{'variant':12} {'fps':>8} {'env':>6} {'infer':>6} {'update':>6} {'env fps':>8}")
    for variant, row in rows.items():
        if isinstance(row, str):
            print(f"{variant:12} refused: {row}")
            continue
        fps, tm = row
        env = tm.total - tm.inference - tm.update
        print(f"{variant:12} {fps:8.0f} {env / tm.total:6.0%} {tm.inference / tm.total:6.0%} "
              f"{tm.update / tm.total:6.0%} {args.frames / env:8.0f}")
    dev = torch.device("cuda" if args.cuda else "cpu")
    one, two, plain = update_ms(dev), update_ms(dev, with_grad_stats=True), update_ms(dev, placed=False)
    try:
        t.check_bf16(dev)
        bf16 = f", {update_ms(dev, bf16=True):.1f} ms one pass under bf16"
    except t.UsageError:
        bf16 = ""
    print(f"one update on {dev.type}: {one:.1f} ms one backward pass, {two:.1f} ms two{bf16}; "
          f"{plain:.1f} ms one pass with the conv weights in the default layout")

    def ratio(a: str, b: str) -> None:
        if isinstance(rows.get(a), tuple) and isinstance(rows.get(b), tuple):
            print(f"ratio {a}/{b}: {rows[a][0] / rows[b][0]:.2f}")

    for a, b in [("vector", "two-pass"), ("bf16", "two-pass"), ("async", "vector"), ("env1+torch1", "vector"),
                 ("env1", "vector"), ("torch1", "vector"), ("vector", "ptan")]:
        ratio(a, b)


if __name__ == "__main__":
    main()
