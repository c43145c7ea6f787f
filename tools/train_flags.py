#!/usr/bin/env python3
"""The flags `make train` puts before yours: the fastest settings proven on Pong on this machine.

    python tools/train_flags.py -- [the ARGS you give make train]

prints the flags on stdout and, on stderr, one line that says why. A new run on a CPU with
native bfloat16 gets `--bf16` where the seed table (docs/seeds.csv) proves that bf16 learns Pong
as float32 does, by the rule of `not_proven` (README, Over seeds); else the notebook's float32.
`--compile` stays your choice: it needs a C++ compiler, and bf16 is judged eager and compiled
alike. A GPU gets `--cuda`, and `--async-envs` where the same rule proves the CPU's runs of it
(its actions from weights one update old: a change of method, not of the device); on the CPU it
trains no faster. A resumed run keeps its own settings and --play takes only --cuda, so those get
--cuda or nothing; so does a run where you chose --bf16, --compile, --async-envs or --backend
(or --no-...) yourself.
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
RUNS = 5  # finished runs of a class the rule needs
LAG = t.precision(cuda=False, bf16=False, lag=True)  # --async-envs's class: float32-async
REF = " (README, Over seeds)"
YOURS = ("resume", "play", "bf16", "compile", "async_envs", "backend")  # given, the choice is yours


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


def not_proven(rows: list[seeds.Row], cls: str = "bf16") -> str | None:
    """Why the seed table does not prove the class `cls` (bf16, float32-async) on the CPU, or None
    where it does. The rule, fixed before the runs (issue 43 for bf16, issue 42 for --async-envs):
    the class's CPU runs pooled, eager and compiled, on any CPU, against the CPU's float32 runs;
    proven when at least RUNS have finished (solved or stopped at the cap), every one solved, and
    the median of their frames to solve is at most the largest float32 run's. A run still running
    can only end above its frames so far, or capped: where those frames already lift the median
    above the bar, the verdict is settled before it ends."""
    float32 = [r.frames for r in seeds.pool(rows, "float32") if r.state == "solved"]
    pooled = seeds.pool(rows, cls)
    done = [r for r in pooled if r.state != "running"]
    if len(done) < RUNS:
        return f"{len(done)} {cls} seed{'s' * (len(done) != 1)} finished, not yet {RUNS}"
    unsolved = [r for r in done if r.state != "solved"]
    if unsolved:
        cap = seeds.CAP_FRAMES / 1e6
        return f"{cls} seed {unsolved[0].seed} stopped unsolved at the {cap:.0f}M-frame cap"
    if not float32:
        return "no float32 seed has solved to compare with"
    median = statistics.median(r.frames for r in done)
    if median > max(float32):
        return (f"{cls}'s median {median / 1e6:.2f}M frames is above float32's largest, "
                f"{max(float32) / 1e6:.2f}M")
    running = [r for r in pooled if r.state == "running"]
    least = statistics.median(r.frames for r in pooled)
    if least > max(float32):
        named = ", ".join(f"seed {r.seed}: unsolved at {r.frames / 1e6:.2f}M so far" for r in running)
        return (f"{cls}'s median will be at least {least / 1e6:.2f}M frames, above float32's largest, "
                f"{max(float32) / 1e6:.2f}M, however the running runs end ({named})")
    return None


def proven(rows: list[seeds.Row], cls: str) -> str:
    """What proves `cls`, in the words of the line make train prints."""
    solved = [r.frames for r in seeds.pool(rows, cls) if r.state == "solved"]
    largest = max(r.frames for r in seeds.pool(rows, "float32") if r.state == "solved")
    return (f"its {len(solved)} seeds all solved, in a median {statistics.median(solved) / 1e6:.2f}M frames "
            f"(float32's largest: {largest / 1e6:.2f}M){REF}")


def choose(args: list[str], cuda: bool, rows: list[seeds.Row]) -> tuple[list[str], str]:
    """The flags for `args` on this machine, and the reason, in one line."""
    flags = ["--cuda"] if cuda else []
    if yours(args):
        return flags, "your ARGS choose the settings; a resumed run keeps its own"
    if cuda:
        why = not_proven(rows, LAG)
        if why:
            return flags, f"float32 on the GPU: --async-envs is not proven on Pong: {why}{REF}"
        return [*flags, "--async-envs"], f"--async-envs on the GPU, proven on Pong: {proven(rows, LAG)}"
    why = not_proven(rows)
    if why:
        return flags, f"the notebook's float32: bf16 is not proven on Pong: {why}{REF}"
    try:
        t.check_bf16(torch.device("cpu"))
    except t.UsageError:
        return flags, ("the notebook's float32: bf16 is proven on Pong, but this CPU has no native "
                       f"bfloat16{REF}")
    return FAST, f"--bf16: this CPU has native bfloat16, and bf16 is proven on Pong: {proven(rows, 'bf16')}"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("args", nargs="*", help="make train's ARGS, after --")
    flags, why = choose(p.parse_args(argv).args, torch.cuda.is_available(), seeds.read_table())
    print(f"make train: {why}", file=sys.stderr)
    print(" ".join(flags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
