#!/usr/bin/env python3
"""The flags `make train` puts before yours: the fastest settings proven on Pong on this machine.

    python tools/train_flags.py -- [the ARGS you give make train]

prints the flags on stdout and, on stderr, one line that says why. A new run on a CPU gets
`--bf16 --compile` where the seed table (docs/seeds.csv) proves them, the CPU has native
bfloat16 (where they ran) and torch.compile finds what it builds with; else the notebook's
float32. Proven means: solved on two seeds or more, each one within the frames to solve of the
float32 seeds, each seed also run in float32 (issue 26's rule; README, Faster kernels). A GPU
gets `--cuda` alone (nothing faster is proven there yet). A resumed run keeps its own settings
and --play takes only --cuda, so those get --cuda or nothing; so does a run where you chose
--bf16 or --compile (or --no-...) yourself.
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
from pathlib import Path

import seeds
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import train_a2c_pong as t  # noqa: E402

FAST = ["--bf16", "--compile"]
NUMERICS = seeds.numerics_of({"bf16": True, "compile": True})  # the table's name for them
REF = " (README, Faster kernels)"
YOURS = ("--resume", "--play", "--bf16", "--no-bf16", "--compile", "--no-compile")


def not_proven(rows: list[seeds.Row]) -> str | None:
    """Why the seed table does not prove --bf16 --compile on Pong, or None where it does."""
    float32 = sorted(r.frames for r in rows if r.numerics == seeds.DEFAULT_NUMERICS and r.state == "solved")
    fast = [r for r in rows if r.numerics == NUMERICS]
    for r in fast:
        if r.state != "solved":
            if float32 and r.frames > float32[-1]:  # past the float32 seeds' slowest: out, solved or not
                slowest = f"{float32[-1] / 1e6:.2f}M"
                return f"its seed {r.seed} passed {slowest} frames, float32's slowest, unsolved"
            return f"its seed {r.seed} run is {r.state}, not solved"
        if not float32 or not float32[0] <= r.frames <= float32[-1]:
            span = f"{float32[0] / 1e6:.2f}M-{float32[-1] / 1e6:.2f}M" if float32 else "none"
            return f"its seed {r.seed} solved at {r.frames / 1e6:.2f}M frames, outside float32's {span}"
        if not any(f.seed == r.seed and f.numerics == seeds.DEFAULT_NUMERICS for f in rows):
            return f"its seed {r.seed} has no float32 run beside it"
    if len({r.seed for r in fast}) < 2:
        return f"it solved on {len(fast)} seed{'s' * (len(fast) != 1)}, not yet two"
    return None


def cannot_compile() -> str | None:
    """Why torch.compile could not build its CPU kernels here, or None: the C++ compiler it
    searches for (CXX, else g++) and Python's headers, looked up without compiling anything."""
    from torch._inductor import cpp_builder

    try:
        cpp_builder.get_cpp_compiler()
    except Exception as e:  # inductor's InvalidCxxCompiler and kin
        first = str(e).strip().partition("\n")[0] or type(e).__name__
        return f"torch.compile finds no C++ compiler ({first})"
    include = Path(sysconfig.get_path("include"))
    if not (include / "Python.h").is_file():
        return f"torch.compile needs Python's headers and {include} has no Python.h"
    return None


def choose(args: list[str], cuda: bool, rows: list[seeds.Row]) -> tuple[list[str], str]:
    """The flags for `args` on this machine, and the reason, in one line."""
    flags = ["--cuda"] if cuda else []
    if any(a.split("=")[0] in YOURS for a in args):
        return flags, "your ARGS choose the settings; a resumed run keeps its own"
    if cuda:
        return flags, "float32 on the GPU (nothing faster is proven on Pong there yet)"
    why = not_proven(rows)
    if why:
        return flags, f"the notebook's float32: --bf16 --compile is not proven on Pong: {why}{REF}"
    try:
        t.check_bf16(torch.device("cpu"))
    except t.UsageError:
        return flags, ("the notebook's float32: --bf16 --compile is proven on CPUs with native bfloat16 "
                       f"and this one has none{REF}")
    why = cannot_compile()
    if why:
        return flags, f"the notebook's float32: {why}, which --bf16 --compile needs{REF}"
    return FAST, f"--bf16 --compile: this CPU has native bfloat16, where they learn Pong as float32 does{REF}"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("args", nargs="*", help="make train's ARGS, after --")
    flags, why = choose(p.parse_args(argv).args, torch.cuda.is_available(), seeds.read_table())
    print(f"make train: {why}", file=sys.stderr)
    print(" ".join(flags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
