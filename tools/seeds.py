#!/usr/bin/env python3
"""Frames to solve Pong over seeds: one table (docs/seeds.csv), one plot (docs/seeds.png) and the
README's sentences and table, from each run's reward_100 CSV.

    python tools/seeds.py add --seed 1 --run RUN_DIR --machine "Zen 3 (AVX2)" --commit 2f83849
    python tools/seeds.py add --seed 42 --csv docs/reward_100.csv --machine ... --commit ab456fb
    python tools/seeds.py add --seed 1 --run RUN_DIR ... --play-log play.txt   # with its agent's games
    python tools/seeds.py add --seed 42 --run RUN_DIR ...   # of a --bf16 --compile run: numerics bf16-compile
    python tools/seeds.py add --seed 3 --run RUN_DIR ... --shared   # other work ran beside it a while
    python tools/seeds.py render        # docs/seeds.png; prints the README's sentences and table

`add` writes the run's record (tools/plot_reward.py's CSV: frames, wall_s, games, reward_100) to
docs/reward_100_seed<S>[_<numerics>].csv, unless --csv names one already in docs/, and puts its
row into docs/seeds.csv, replacing the seed's row of the same numerics if there is one. A row's
state is what its CSV shows: solved (a 100-game mean above STOP_REWARD), capped (CAP_FRAMES
reached without; with --run, by the run's checkpoint, as its last finished game falls short of a
cap), or running (neither yet: a run to be resumed). Every run started stays in the table. Runs
of other numerics than the default command's float32 (a run's --bf16, --compile and --async-envs,
read from its config.json and named as the bench names its variants, "cuda-" before them for a
GPU's) get a row of their own, follow its rows and are drawn dashed. Sentences and medians pool a
precision class (train_a2c_pong.precision_of: bf16 eager and compiled together, a GPU's runs and
--async-envs runs apart): one sentence and one median curve for each.
--play-log reads what `train_a2c_pong.py --play RUN_DIR/model_best.pt --episodes 10` printed
(that log goes into docs/reference.md, "Each seed's agent"): the agent's mean score and games
won join the row.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from train_a2c_pong import precision_of  # noqa: E402  (the script's one rule of precision classes)

DOCS = ROOT / "docs"
TABLE = DOCS / "seeds.csv"
PLOT = DOCS / "seeds.png"
CAP_FRAMES = 15_000_000  # the frames a seed's run may take (issue: seeds)
STOP_REWARD = 18.0
AGENT_GAMES = 10
FIELDS = ("seed", "numerics", "state", "frames", "games", "wall_s", "fps", "machine", "commit", "csv",
          "agent_mean", "agent_won", "torch", "ale_py", "gymnasium", "shared")
STACK = FIELDS[-4:-1]  # the versions a run's checkpoint records (train_a2c_pong.versions)


class Row(NamedTuple):
    seed: int
    numerics: str
    state: str
    frames: int
    games: int
    wall_s: float
    fps: int
    machine: str
    commit: str
    csv: str  # the record's path, relative to the repository
    agent_mean: str = ""  # its model_best.pt's mean score over AGENT_GAMES sampled games, "" if not played
    agent_won: str = ""  # of those games, how many it won
    torch: str = ""  # the versions it trained with, as its checkpoint records them; "" if not recorded
    ale_py: str = ""
    gymnasium: str = ""
    shared: str = ""  # "yes" where other work ran beside it for part of its time: its time is no speed


DEFAULT_NUMERICS = "float32"  # the default command's: the seeds' sentence, median and outlook


def in_order(rows: list[Row]) -> list[Row]:
    """The default command's runs first, then those of each other numerics (--bf16, --compile), by seed."""
    return sorted(rows, key=lambda r: (r.numerics != DEFAULT_NUMERICS, r.numerics, r.seed))


def read_record(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != {"frames", "wall_s", "games", "reward_100"}:
        raise SystemExit(f"error: {path}: not a reward_100 record (tools/plot_reward.py --csv)")
    return rows


def state_of(record: list[dict[str, str]], run_frames: int = 0) -> str:
    """`run_frames`: how far the run got, if known beyond its last game (a run stopped at the cap)."""
    last = record[-1]
    if int(last["games"]) >= 100 and float(last["reward_100"]) > STOP_REWARD:
        return "solved"
    return "capped" if max(int(last["frames"]), run_frames) >= CAP_FRAMES else "running"


def row_of(seed: int, numerics: str, record_path: Path, machine: str, commit: str,
           run_frames: int = 0) -> Row:
    """A table row: the record's last point is where the run solved, stopped at the cap, or is now."""
    record = read_record(record_path)
    last = record[-1]
    frames, wall_s = int(last["frames"]), float(last["wall_s"])
    return Row(seed, numerics, state_of(record, run_frames), frames, int(last["games"]), wall_s,
               round(frames / wall_s), machine, commit, str(record_path.resolve().relative_to(ROOT)))


def read_table(path: Path | None = None) -> list[Row]:
    path = path or TABLE
    if not path.is_file():
        return []
    with path.open() as f:
        return [Row(int(r["seed"]), r["numerics"], r["state"], int(r["frames"]), int(r["games"]),
                    float(r["wall_s"]), int(r["fps"]), r["machine"], r["commit"], r["csv"],
                    r["agent_mean"], r["agent_won"], *(r.get(k, "") for k in (*STACK, "shared")))
                for r in csv.DictReader(f)]


def write_table(rows: list[Row], path: Path | None = None) -> None:
    with (path or TABLE).open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        w.writerows(in_order(rows))


def hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def pool(rows: list[Row], precision: str) -> list[Row]:
    """The runs of one precision class (float32, bf16, cuda-float32, ...), eager and compiled alike."""
    return [r for r in rows if precision_of(r.numerics) == precision]


def precisions(rows: list[Row]) -> list[str]:
    """The precision classes of the table, the default command's first."""
    return list(dict.fromkeys([DEFAULT_NUMERICS, *(precision_of(r.numerics) for r in in_order(rows))]))


def summary(rows: list[Row], numerics: str = DEFAULT_NUMERICS, precision: bool = False) -> str:
    """The README's sentence on the finished runs of one numerics, or with `precision` of one
    precision class, its flavours pooled (named by the flavour where it has one alone)."""
    mine = pool(rows, numerics) if precision else [r for r in rows if r.numerics == numerics]
    flavours = {r.numerics for r in mine}
    if precision and len(flavours) == 1:
        numerics = flavours.pop()
    elif precision and flavours:
        numerics = f"{numerics} (eager and compiled)"
    done = [r for r in mine if r.state != "running"]
    solved = [r for r in done if r.state == "solved"]
    running = sum(r.state == "running" for r in mine)
    more = f" ({running} more running)" if running else ""
    if not solved:
        return f"Solved on 0 of {len(done)} finished {numerics} seeds{more}."
    frames = [r.frames for r in solved]
    alone = [r for r in solved if not r.shared]  # a run that shared its machine ran slower than it would
    minutes = {m: round(statistics.median(r.wall_s for r in alone if r.machine == m) / 60)
               for m in sorted({r.machine for r in alone})}  # a median over machines would be no machine's
    time = ", ".join(f"{n} minutes on {m}" for m, n in minutes.items()) or "not measured alone"
    if len(solved) == 1:  # a median of one, and its range, would say the same figure three times
        return (f"Solved on 1 of {len(done)} finished {numerics} seeds{more}: {frames[0] / 1e6:.2f}M "
                f"frames, training time {time}.")
    return (f"Solved on {len(solved)} of {len(done)} finished {numerics} seeds{more}: median "
            f"{statistics.median(frames) / 1e6:.2f}M frames "
            f"({min(frames) / 1e6:.2f}M-{max(frames) / 1e6:.2f}M), median training time {time}.")


def markdown(rows: list[Row]) -> str:
    lines = ["| seed | numerics | solved | frames | games | training time | frames/s | machine | commit "
             f"| agent, {AGENT_GAMES} games |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    said = {"solved": "yes", "capped": f"no (cap of {CAP_FRAMES / 1e6:.0f}M)", "running": "running"}
    for r in in_order(rows):
        lines.append(f"| {r.seed} | {r.numerics} | {said[r.state]} | {r.frames:,} | {r.games:,} | "
                     f"{hours(r.wall_s)}{' (shared)' * bool(r.shared)} | {r.fps:,} | {r.machine} | "
                     f"`{r.commit}` | "
                     f"{f'{r.agent_mean}, won {r.agent_won}' if r.agent_mean else 'not played'} |")
    return "\n".join(lines)


def median_curve(records: list[list[tuple[float, float]]], step: float = 50_000) -> list[tuple[float, float]]:
    """The median reward_100 over the runs that have reached each frame (a solved run keeps its
    last value after it stopped: it would not unlearn), on a grid of `step` frames."""
    out = []
    end = max(r[-1][0] for r in records)
    frame = step
    while frame <= end:
        values = []
        for points in records:
            before = [v for f, v in points if f <= frame]
            if before and (frame <= points[-1][0] or points[-1][1] > STOP_REWARD):
                values.append(before[-1])
        if values:
            out.append((frame, statistics.median(values)))
        frame += step
    return out


def points_of(row: Row) -> list[tuple[int, float]]:
    return [(int(p["frames"]), float(p["reward_100"])) for p in read_record(ROOT / row.csv)]


def precision_median(rows: list[Row], precision: str = DEFAULT_NUMERICS) -> list[tuple[float, float]]:
    """The plot's median of one precision class: over its runs only (another precision is another
    numeric method)."""
    records = [points_of(r) for r in pool(rows, precision)]
    return median_curve(records) if records else []


def plot(rows: list[Row], out: Path | None = None) -> None:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("error: the plot needs matplotlib, which is not installed (pip install matplotlib, "
                         "or make dev)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for r in in_order(rows):
        points = points_of(r)
        ax.plot([f / 1e6 for f, _ in points], [v for _, v in points], linewidth=1, alpha=0.6,
                linestyle="-" if r.numerics == DEFAULT_NUMERICS else "--",
                label=f"seed {r.seed} ({r.numerics}, {r.state})")
    for precision in dict.fromkeys(precision_of(r.numerics) for r in in_order(rows)):
        curve = precision_median(rows, precision)
        ax.plot([f / 1e6 for f, _ in curve], [v for _, v in curve], color="black", linewidth=2.5,
                linestyle="-" if precision == DEFAULT_NUMERICS else "--",
                label=f"median over the {precision} seeds")
    ax.axhline(STOP_REWARD, color="gray", linestyle="--", linewidth=1)
    ax.set_xlabel("frames (millions)")
    ax.set_ylabel("reward_100 (mean of the last 100 games)")
    ax.set_title("A2C on Pong, every seed we ran (dashed: not the default float32)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out or PLOT, dpi=100)


def agent_games(log: str) -> tuple[str, str]:
    """The mean score and games won that a --play log of AGENT_GAMES sampled games printed."""
    scores = [int(s) for s in re.findall(r"^game \d+: score ([+-]\d+) \(\d+-\d+\)$", log, flags=re.M)]
    said = re.search(r"^mean score over (\d+) games: ([+-][\d.]+), won (\d+) of \d+ ", log, flags=re.M)
    if len(scores) != AGENT_GAMES or not said or int(said[1]) != AGENT_GAMES or "greedy actions" in log:
        raise SystemExit(f"error: not the output of --play MODEL --episodes {AGENT_GAMES} (sampled actions)")
    return said[2], said[3]


def checkpoint_facts(run_dir: Path) -> tuple[int, dict[str, str]]:
    """How far a run got, and the versions it trained with: its checkpoint's frame (a run writes
    one whenever it stops unsolved; a run stopped at the cap has its last finished game below it)
    and `versions`; 0 and none without one."""
    path = run_dir / "checkpoint.pt"
    if not path.is_file():
        return 0, {}
    from train_a2c_pong import UsageError, load_checkpoint

    try:
        ckpt = load_checkpoint(str(path))
    except UsageError as e:
        raise SystemExit(f"error: {e}") from None
    return int(ckpt["frame"]), {k: str(v) for k, v in ckpt.get("versions", {}).items()}


def numerics_of(config: dict) -> str:
    """A run's numerics as the bench names its variants (--async-envs: async), from its config.json,
    "cuda-" before them on a GPU: the flags of every segment, which must agree (a run resumed with
    --no-bf16, say, or resumed on the CPU, is no one numerics)."""
    flags = {"bf16": "bf16", "compile": "compile", "async_envs": "async"}
    said = {("cuda-" if seg.get("cuda") else "")
            + ("-".join(name for k, name in flags.items() if seg.get(k)) or DEFAULT_NUMERICS)
            for seg in config.get("segments") or [config]}
    if len(said) != 1:
        raise SystemExit(f"error: the run's segments trained as {' and '.join(sorted(said))}, mixed")
    return said.pop()


def run_numerics(run_dir: Path, given: str | None) -> str:
    """The numerics of the run folder's config.json; a --numerics that contradicts it is refused."""
    try:
        config = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {run_dir}: no readable config.json, not a run folder ({e})") from None
    numerics = numerics_of(config)
    if given is not None and given != numerics:
        raise SystemExit(f"error: --numerics {given}, but {run_dir} trained as {numerics}")
    return numerics


def add(args: argparse.Namespace) -> None:
    if (args.run is None) == (args.csv is None):
        raise SystemExit("error: give a run folder (--run) or its record (--csv), one of them")
    run_frames, stack = 0, {}
    if args.run is not None:
        from plot_reward import load_points, write_csv

        args.numerics = run_numerics(args.run, args.numerics)
        suffix = "" if args.numerics == DEFAULT_NUMERICS else f"_{args.numerics}"
        record = DOCS / f"reward_100_seed{args.seed}{suffix}.csv"
        write_csv(load_points(args.run), record)
        run_frames, stack = checkpoint_facts(args.run)
    else:
        record = args.csv
        if not record.is_file():
            raise SystemExit(f"error: {record}: no such file")
        args.numerics = args.numerics or DEFAULT_NUMERICS
    row = row_of(args.seed, args.numerics, record, args.machine, args.commit, run_frames)
    row = row._replace(**{k: stack.get(k, "") for k in STACK}, shared="yes" if args.shared else "")
    if args.play_log is not None:
        if not args.play_log.is_file():
            raise SystemExit(f"error: {args.play_log}: no such file")
        if row.state == "running":
            raise SystemExit(f"error: seed {row.seed}'s run is still running: its agent is played when it "
                             "ends")
        mean, won = agent_games(args.play_log.read_text())
        row = row._replace(agent_mean=mean, agent_won=won)
    rows = [r for r in read_table() if (r.seed, r.numerics) != (row.seed, row.numerics)]
    write_table([*rows, row])
    print(f"{TABLE.relative_to(ROOT)}: seed {row.seed} ({row.numerics}) {row.state} at {row.frames:,} "
          f"frames, {row.games:,} games, {hours(row.wall_s)}, {row.fps:,} frames/s")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("add", help="put a run's record and row into docs/")
    a.add_argument("--seed", type=int, required=True)
    a.add_argument("--run", type=Path, help="the run folder (its event files are read)")
    a.add_argument("--csv", type=Path, help="or its record, already written (tools/plot_reward.py --csv)")
    a.add_argument("--numerics", help="float32 (the default command), bf16, compile, bf16-compile, "
                   "each with -async after it for --async-envs (async alone for float32's); "
                   "with --run, read from its config.json (a contradicting one is refused)")
    a.add_argument("--machine", required=True, help="where it trained, in words")
    a.add_argument("--commit", required=True, help="the commit it trained on")
    a.add_argument("--play-log", type=Path, help=f"what --play MODEL --episodes {AGENT_GAMES} printed")
    a.add_argument("--shared", action="store_true", help="other work ran beside it for part of its time "
                   "(its time stays out of the median training time)")
    sub.add_parser("render", help="write docs/seeds.png; print the README's sentences and table")
    args = p.parse_args(argv)
    if args.command == "add":
        add(args)
        return 0
    rows = read_table()
    if not rows:
        print(f"error: {TABLE.relative_to(ROOT)}: no runs yet (tools/seeds.py add ...)", file=sys.stderr)
        return 2
    plot(rows)
    for precision in precisions(rows):
        print(summary(rows, precision, precision=True))
    print()
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
