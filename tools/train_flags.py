#!/usr/bin/env python3
"""The flags `make train` puts before yours: the fastest settings proven on Pong on this machine.

    python tools/train_flags.py -- [the ARGS you give make train]

prints the flags on stdout and, on stderr, one line that says why. A new run on a CPU with
native bfloat16 gets `--bf16` where the seed table (docs/seeds.csv) proves that bf16 learns Pong
as float32 does, by the rule of `not_proven` (README, Over seeds); else the notebook's float32.
`--compile` stays your choice: it needs a C++ compiler, and bf16 is judged eager and compiled
alike. A GPU gets `--cuda` alone (nothing faster is proven there yet). A resumed run keeps its
own settings and --play takes only --cuda, so those get --cuda or nothing; so does a run where
you chose --bf16 or --compile (or --no-...) yourself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import seeds
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import train_a2c_pong as t  # noqa: E402

FAST = ["--bf16"]
BF16_RUNS = 5  # finished bf16 runs the rule needs
REF = " (README, Over seeds)"
YOURS = ("resume", "play", "bf16", "compile")  # settings that, given, leave the choice to you


def yours(args: list[str]) -> bool:
    """Whether `args` choose a setting of YOURS, read as the script reads them (argparse: a flag
    may be abbreviated, --resu for --resume); ARGS it refuses are yours too, for it to say why."""
    def asks_help(arg: str) -> bool:  # argparse would print the help and exit
        return arg == "-h" or (len(arg) > 3 and "--help".startswith(arg))

    asked = [a for a in args if not asks_help(a)]
    try:
        given, _ = t.build_parser().parse_known_args(asked)
    except t.UsageError:
        return True
    return any(k in vars(given) for k in YOURS)


def not_proven(rows: list[seeds.Row]) -> str | None:
    """Why the seed table does not prove bf16 on the CPU, or None where it does. The rule, fixed
    before the runs (issue 43): bf16's CPU runs pooled, eager and compiled, on any CPU, against the
    CPU's float32 runs; proven when at least BF16_RUNS have finished (solved or stopped at the
    cap), every one solved, and the median of their frames to solve is at most the largest
    float32 run's. A run still running can only end above its frames so far, or capped: where
    those frames already lift the median above the bar, the verdict is settled before it ends."""
    float32 = [r.frames for r in seeds.pool(rows, "float32") if r.state == "solved"]
    pooled = seeds.pool(rows, "bf16")
    bf16 = [r for r in pooled if r.state != "running"]
    if len(bf16) < BF16_RUNS:
        return f"{len(bf16)} bf16 seed{'s' * (len(bf16) != 1)} finished, not yet {BF16_RUNS}"
    unsolved = [r for r in bf16 if r.state != "solved"]
    if unsolved:
        return f"bf16 seed {unsolved[0].seed} stopped unsolved at the {seeds.CAP_FRAMES / 1e6:.0f}M-frame cap"
    if not float32:
        return "no float32 seed has solved to compare with"
    median = statistics.median(r.frames for r in bf16)
    if median > max(float32):
        return (f"bf16's median {median / 1e6:.2f}M frames is above float32's largest, "
                f"{max(float32) / 1e6:.2f}M")
    running = [r for r in pooled if r.state == "running"]
    least = statistics.median(r.frames for r in pooled)
    if least > max(float32):
        named = ", ".join(f"seed {r.seed}: unsolved at {r.frames / 1e6:.2f}M so far" for r in running)
        return (f"bf16's median will be at least {least / 1e6:.2f}M frames, above float32's largest, "
                f"{max(float32) / 1e6:.2f}M, however the running runs end ({named})")
    return None


def choose(args: list[str], cuda: bool, rows: list[seeds.Row]) -> tuple[list[str], str]:
    """The flags for `args` on this machine, and the reason, in one line."""
    flags = ["--cuda"] if cuda else []
    if yours(args):
        return flags, "your ARGS choose the settings; a resumed run keeps its own"
    if cuda:
        return flags, "float32 on the GPU (nothing faster is proven on Pong there yet)"
    why = not_proven(rows)
    if why:
        return flags, f"the notebook's float32: bf16 is not proven on Pong: {why}{REF}"
    try:
        t.check_bf16(torch.device("cpu"))
    except t.UsageError:
        return flags, ("the notebook's float32: bf16 is proven on Pong, but this CPU has no native "
                       f"bfloat16{REF}")
    bf16 = [r.frames for r in seeds.pool(rows, "bf16") if r.state == "solved"]
    largest = max(r.frames for r in seeds.pool(rows, "float32") if r.state == "solved")
    return FAST, (f"--bf16: this CPU has native bfloat16, and bf16 is proven on Pong: its {len(bf16)} seeds "
                  f"all solved, in a median {statistics.median(bf16) / 1e6:.2f}M frames (float32's largest: "
                  f"{largest / 1e6:.2f}M){REF}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("args", nargs="*", help="make train's ARGS, after --")
    flags, why = choose(p.parse_args(argv).args, torch.cuda.is_available(), seeds.read_table())
    print(f"make train: {why}", file=sys.stderr)
    print(" ".join(flags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
