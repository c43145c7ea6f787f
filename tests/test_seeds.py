"""Frames to solve over seeds: docs/seeds.csv is its runs' records, the README says the table
and its sentence as tools/seeds.py makes them, and a training run's outlook reads the same table."""

import csv
import json
import re
import subprocess
import sys

import pytest
import seeds
from catch_env import CatchVectorEnv
from conftest import ROOT

import train_a2c_pong as t

README = (ROOT / "README.md").read_text()
ROWS = seeds.read_table()


def test_every_row_is_its_runs_record():
    assert ROWS, "docs/seeds.csv has no runs"
    for row in ROWS:
        capped = seeds.CAP_FRAMES if row.state == "capped" else 0  # read from its checkpoint, not in git
        made = seeds.row_of(row.seed, row.numerics, ROOT / row.csv, row.machine, row.commit, capped)
        played_and_stack = dict.fromkeys(("agent_mean", "agent_won", *seeds.STACK, "shared"), "")
        assert row._replace(**played_and_stack) == made, row.seed


def test_the_constraints_are_the_versions_the_seed_runs_recorded():
    """constraints.txt (make setup follows it) pins what the CPU seed rows say they trained with."""
    pinned = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                  if line and not line.startswith("#"))
    recorded = [r for r in ROWS if r.torch and not t.precision_of(r.numerics).startswith("cuda")]
    assert recorded, "no CPU seed row records its versions"
    for r in recorded:
        assert (r.torch.split("+")[0], r.ale_py, r.gymnasium) == \
            (pinned["torch"], pinned["ale-py"], pinned["gymnasium"]), r.seed


REFERENCE = (ROOT / "docs" / "reference.md").read_text()


def agent_log(seed: int, numerics: str = "float32") -> str:
    """The output block under "### Seed <seed>" (another numerics: "### Seed <seed>, <numerics>")
    of the reference's "Each seed's agent"."""
    section = REFERENCE.split("\n## Each seed's agent\n")[1].split("\n## ")[0]
    heading = f"Seed {seed}" if numerics == "float32" else f"Seed {seed}, {numerics}"
    return section.split(f"\n### {heading}\n")[1].split("```")[1]


def shipped_agents_twenty() -> str:
    """The output of the shipped notebook agent's 20 games, in the reference."""
    return REFERENCE.split("--play docs/pong_a2c.pt --episodes 20\n")[1].split("```")[0]


def test_each_finished_seeds_agent_in_the_table_is_its_play_log():
    for row in ROWS:
        if row.state == "running":
            assert not row.agent_mean, row.seed  # a run still training has no final agent yet
            continue
        log = agent_log(row.seed, row.numerics)
        assert log.startswith("\n$ python train_a2c_pong.py --play ") and " --episodes 10\n" in log
        assert "playing on cpu with 1 torch thread: sampled actions, sticky actions 0 (as trained)" in log
        scores = [int(x) for x in re.findall(r"^game \d+: score ([+-]\d+) \(\d+-\d+\)$", log, flags=re.M)]
        assert len(scores) == seeds.AGENT_GAMES == 10
        won = sum(x > 0 for x in scores)
        assert (row.agent_mean, row.agent_won) == (f"{sum(scores) / 10:+.2f}", str(won)), row
        assert seeds.agent_games(log) == (row.agent_mean, row.agent_won)


def test_seed_42s_ten_games_are_the_first_ten_of_the_shipped_agents_twenty():
    def scores(log: str) -> list[str]:
        return re.findall(r"^game \d+: score ([+-]\d+ \(\d+-\d+\))$", log, flags=re.M)

    ten = agent_log(42)
    assert "--play docs/pong_a2c.pt --episodes 10\n" in ten
    assert scores(ten) == scores(shipped_agents_twenty())[:10]


def test_a_play_log_of_other_than_ten_sampled_games_is_refused():
    with pytest.raises(SystemExit, match="--episodes 10 .sampled actions"):
        seeds.agent_games(shipped_agents_twenty())


def test_a_run_stopped_at_the_cap_is_capped_though_its_last_game_ended_below_it():
    last = {"frames": str(seeds.CAP_FRAMES - 900), "wall_s": "1.0", "games": "9000", "reward_100": "12.5"}
    assert seeds.state_of([last]) == "running"
    assert seeds.state_of([last], run_frames=seeds.CAP_FRAMES + 40) == "capped"
    assert seeds.state_of([{**last, "reward_100": "18.2"}], run_frames=seeds.CAP_FRAMES + 40) == "solved"


def test_the_sentence_gives_the_training_time_of_each_machine_not_a_median_across_them():
    rows = [seeds.Row(seed, "float32", state, frames, 0, wall_s, 1, machine, "c", "x")
            for seed, state, frames, wall_s, machine in [
                (1, "solved", 5_000_000, 600, "A"), (2, "solved", 7_000_000, 1200, "A"),
                (3, "solved", 6_000_000, 6000, "B"), (4, "solved", 9_000_000, 120, "B"),
                (5, "capped", 15_000_000, 9000, "B"), (6, "running", 1_000_000, 60, "A")]]
    assert seeds.summary(rows) == (
        "Solved on 4 of 5 finished float32 seeds (1 more running): median 6.50M frames (5.00M-9.00M), "
        "median training time 15 minutes on A, 51 minutes on B.")


def test_the_time_of_a_run_that_shared_its_machine_stays_out_of_the_median_time_not_of_the_frames():
    rows = [seeds.Row(seed, "bf16", "solved", frames, 0, wall_s, 1, "A", "c", "x", shared=shared)
            for seed, frames, wall_s, shared in [(1, 5_000_000, 600, ""), (2, 6_000_000, 9000, "yes"),
                                                 (3, 7_000_000, 1200, "")]]
    assert seeds.summary(rows, "bf16") == ("Solved on 3 of 3 finished bf16 seeds: median 6.00M frames "
                                           "(5.00M-7.00M), median training time 15 minutes on A.")
    assert "| 2 h 30 min (shared) |" in seeds.markdown(rows)
    assert seeds.summary(rows[1:2], "bf16").endswith("training time not measured alone.")


def test_another_numerics_has_its_own_sentence_follows_the_default_and_stays_out_of_its_median(
        tmp_path, monkeypatch, capsys):
    default = [r for r in ROWS if r.numerics == "float32"]
    record = tmp_path / "reward_100_seed42_bf16-compile.csv"
    record.write_text("frames,wall_s,games,reward_100\n1000,1.0,1,-21.0\n2000000,3600.0,900,18.5\n")
    other = seeds.Row(42, "bf16-compile", "solved", 2_000_000, 900, 3600.0, 555, "m", "c", str(record))
    rows = [other, *default]
    assert seeds.in_order(rows) == [*seeds.in_order(default), other]
    median = seeds.precision_median(default)
    assert seeds.precision_median(rows) == median
    assert seeds.precision_median([*default, other._replace(numerics="float32")]) != median
    assert seeds.precision_median(rows, "bf16") == seeds.median_curve([seeds.points_of(other)])
    assert seeds.summary(rows) == seeds.summary(default)
    table = tmp_path / "seeds.csv"
    seeds.write_table(rows, table)
    monkeypatch.setattr(seeds, "TABLE", table)
    monkeypatch.setattr(seeds, "PLOT", tmp_path / "seeds.png")
    assert seeds.main(["render"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[:2] == [seeds.summary(default), "Solved on 1 of 1 finished bf16-compile seeds: 2.00M frames, "
                        "training time 60 minutes on m."]
    assert said[-1].startswith("| 42 | bf16-compile | yes | 2,000,000 |")
    eager = other._replace(seed=7, numerics="bf16", frames=4_000_000, wall_s=7200.0)
    seeds.write_table([*rows, eager], table)
    assert seeds.main(["render"]) == 0  # bf16 eager and compiled: one pooled sentence more
    assert "Solved on 2 of 2 finished bf16 (eager and compiled) seeds: median 3.00M frames (2.00M-4.00M), " \
           "median training time 90 minutes on m." in capsys.readouterr().out.splitlines()


def test_a_runs_numerics_are_read_from_its_config_and_a_contradicting_one_is_refused(tmp_path):
    def segment(bf16, compile):
        return {"segment": 0, "bf16": bf16, "compile": compile}

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"seed": 42, "segments": [segment(True, True)] * 2}))
    assert seeds.run_numerics(run, None) == seeds.run_numerics(run, "bf16-compile") == "bf16-compile"
    with pytest.raises(SystemExit, match="--numerics float32, but .* trained as bf16-compile"):
        seeds.run_numerics(run, "float32")
    assert seeds.numerics_of({"segments": [segment(False, False)]}) == "float32"
    assert seeds.numerics_of({"segments": [segment(False, True)]}) == "compile"
    lagged = {**segment(True, False), "async_envs": True}
    assert seeds.numerics_of({"segments": [lagged]}) == "bf16-async"
    assert seeds.numerics_of({"segments": [{**lagged, "bf16": False, "cuda": True}]}) == "cuda-async"
    classes = {n: t.precision_of(n) for n in ("async", "bf16-compile-async", "cuda-async", "cuda-bf16")}
    assert classes == {"async": "float32-async", "bf16-compile-async": "bf16-async",
                       "cuda-async": "cuda-float32-async", "cuda-bf16": "cuda-bf16"}
    with pytest.raises(SystemExit, match="trained as bf16 and float32, mixed"):
        seeds.numerics_of({"segments": [segment(False, False), segment(True, False)]})
    with pytest.raises(SystemExit, match="no readable config.json"):
        seeds.run_numerics(tmp_path, None)


def write_table(path, *rows):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(seeds.FIELDS)
        w.writerows(rows)


def test_the_outlook_reads_the_solved_runs_of_the_runs_own_precision(tmp_path):
    table = tmp_path / "seeds.csv"
    write_table(table, (1, "float32", "solved", 5_200_000, 0, 1, 1, "m", "c", "x"),
                (2, "float32", "solved", 8_100_000, 0, 1, 1, "m", "c", "x"),
                (3, "float32", "capped", 15_000_000, 0, 1, 1, "m", "c", "x"),
                (4, "bf16", "solved", 1_000_000, 0, 1, 1, "m", "c", "x"),
                (5, "bf16-compile", "solved", 3_000_000, 0, 1, 1, "m", "c", "x"),
                (6, "cuda-float32", "solved", 2_000_000, 0, 1, 1, "m", "c", "x"))
    said = "[outlook] the 2 float32 seeds we ran solved at 5.20M-8.10M frames"
    assert t.seeds_outlook(1_000_000, 1000.0, table) == f"{said}: 1 h 10 min - 1 h 58 min more at 1,000 fps"
    assert t.seeds_outlook(6_000_000, 1000.0, table) == f"{said}: up to 35 min more at 1,000 fps"
    assert t.seeds_outlook(9_000_000, 1000.0, table) == f"{said}; this run, at 9.00M, is past them all"
    assert t.seeds_outlook(0, 1000.0, table, of="bf16") == \
        "[outlook] the 2 bf16 seeds we ran solved at 1.00M-3.00M frames: 17 min - 50 min more at 1,000 fps"
    gpu = t.seeds_outlook(0, 1000.0, table, of="cuda-float32")
    assert gpu.startswith("[outlook] the 1 cuda-float32 seed we ran solved at 2.00M frames")
    assert t.seeds_outlook(0, 1000.0, table, of="cuda-bf16") is None  # none of its class yet
    close = tmp_path / "close.csv"  # two runs a few thousand frames apart: one figure, one time
    write_table(close, (1, "float32", "solved", 5_998_000, 0, 1, 1, "m", "c", "x"),
                (2, "float32", "solved", 6_001_000, 0, 1, 1, "m", "c", "x"))
    assert t.seeds_outlook(1_000_000, 1000.0, close) == \
        "[outlook] the 2 float32 seeds we ran solved at 6.00M frames: 1 h 23 min more at 1,000 fps"
    assert t.seeds_outlook(1, 1000.0, tmp_path / "none.csv") is None
    assert t.seeds_outlook(1_000_000, 0.4, table) is None  # starved of CPU: no hours "at 0 fps"


class LaggedCatch(CatchVectorEnv):
    """Catch with ale-py's send/recv, as --async-envs steps it."""

    def send(self, actions):
        self.sent = actions

    def recv(self):
        return self.step(self.sent)


@pytest.mark.parametrize("bf16,lag", [(False, False), (True, False), (False, True)])
def test_the_outlook_of_a_run_is_the_readmes_figures_of_its_class(capsys, monkeypatch, tmp_path, bf16, lag):
    """A --bf16 run is told the bf16 seeds' frames (eager and compiled pooled), not float32's; an
    --async-envs run those of its own class."""
    of = ("bf16" if bf16 else "float32") + ("-async" if lag else "")
    solved = sorted(r.frames for r in ROWS if r.state == "solved" and t.precision_of(r.numerics) == of)
    monkeypatch.setattr(t, "OUTLOOK_FIRST_S", 0.0)
    monkeypatch.setattr(t, "check_bf16", lambda device: None)
    seen, real = [], t.StatusLine
    monkeypatch.setattr(t, "StatusLine", lambda *a: seen.append(a) or real(*a))
    env = LaggedCatch(50) if lag else CatchVectorEnv(50)
    t.train(t.Config(bf16=bf16, async_envs=lag, max_frames=8, runs_dir=str(tmp_path)), env=env)
    assert seen[0][2] == of  # the run's own precision
    capsys.readouterr()
    status = real(0, 0.0, seen[0][2])
    status.maybe_print(100_000, t.RewardTracker(None, 18), force=True)
    outlook = capsys.readouterr().out.splitlines()[1]
    noun = "seeds" if len(solved) != 1 else "seed"
    assert outlook.startswith(f"[outlook] the {len(solved)} {of} {noun} we ran solved at ")
    span = re.search(r"solved at ([\d.]+M)(?:-([\d.]+M))? frames", outlook)
    low, high = span[1], span[2] or span[1]
    assert (low, high) == (f"{solved[0] / 1e6:.2f}M", f"{solved[-1] / 1e6:.2f}M")
    assert any(said in README for said in (f"({low}-{high})", f"({low})", f": {low} frames"))  # its sentence
    assert t.precision(cuda=True, bf16=False) == "cuda-float32"  # a GPU's runs are a class of their own
    assert not t.runs_as_the_seeds(t.Config(lr=0.003)) and not t.runs_as_the_seeds(t.Config(stop_reward=19))


def test_the_median_curve_keeps_solved_runs_and_drops_unfinished_ones_past_their_end():
    solved = [(100, -20.0), (200, 19.0)]
    running = [(100, -10.0), (300, 0.0)]
    capped = [(100, -21.0), (400, -5.0)]
    curve = dict(seeds.median_curve([solved, running, capped], step=100))
    assert curve[100] == -20.0  # of -20, -10, -21
    assert curve[300] == 0.0  # of 19 (solved at 200, carried on), 0 and -21
    assert curve[400] == 7.0  # of 19 and -5: the running run has not got there


@pytest.mark.slow
def test_add_writes_the_runs_record_and_its_row_and_render_the_plot(tmp_path, monkeypatch, capsys):
    run = t.train(t.Config(envs=8, runs_dir=str(tmp_path / "runs"), max_frames=1500, stop_reward=100),
                  env=CatchVectorEnv(8))
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, value in [("ROOT", tmp_path), ("DOCS", docs), ("TABLE", docs / "seeds.csv"),
                        ("PLOT", docs / "seeds.png")]:
        monkeypatch.setattr(seeds, name, value)
    for seed, shared in ((3, []), (3, []), (4, ["--shared"])):  # the second add of seed 3 replaces its row
        assert seeds.main(["add", "--seed", str(seed), "--run", str(run.run_dir), "--machine", "here",
                           "--commit", "abc", *shared]) == 0
    rows = seeds.read_table(docs / "seeds.csv")
    assert [(r.seed, r.state, r.games, r.shared) for r in rows] == \
        [(3, "running", run.episodes, ""), (4, "running", run.episodes, "yes")]
    assert rows[0].frames <= run.frames and rows[0].csv == "docs/reward_100_seed3.csv"
    capsys.readouterr()
    assert seeds.main(["render"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Solved on 0 of 0 finished float32 seeds (2 more running).")
    assert "| 3 | float32 | running |" in out and (docs / "seeds.png").is_file()
    log = tmp_path / "play.txt"
    log.write_text(agent_log(1))
    with pytest.raises(SystemExit, match="still running: its agent is played when it ends"):
        seeds.main(["add", "--seed", "3", "--run", str(run.run_dir), "--machine", "here", "--commit", "abc",
                    "--play-log", str(log)])
    assert seeds.checkpoint_facts(run.run_dir) == (run.frames, t.versions())
    assert (rows[0].torch, rows[0].ale_py, rows[0].gymnasium) == \
        (t.versions()["torch"], t.versions()["ale_py"], t.versions()["gymnasium"])
    monkeypatch.setattr(seeds, "CAP_FRAMES", run.frames)  # as if the run had stopped at the cap
    assert seeds.main(["add", "--seed", "5", "--run", str(run.run_dir), "--machine", "here",
                       "--commit", "abc"]) == 0
    assert seeds.read_table(docs / "seeds.csv")[-1][:3] == (5, "float32", "capped")
    assert seeds.main(["add", "--seed", "5", "--run", str(run.run_dir), "--machine", "here",
                       "--commit", "abc", "--play-log", str(log)]) == 0  # a finished run: its agent joins
    row = seeds.read_table(docs / "seeds.csv")[-1]
    assert (row.agent_mean, row.agent_won) == seeds.agent_games(log.read_text())


@pytest.mark.parametrize("tool", sorted(p.name for p in (ROOT / "tools").glob("*.py")
                                        if "__main__" in p.read_text()))
def test_every_tool_has_help(tool):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: ") and not proc.stderr, proc.stderr
