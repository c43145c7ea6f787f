"""The shipped agent and the full run's record: the model in docs/ wins Pong on the real ROM
through --play (random no-op starts, sampled actions), a freshly initialized one does not, and
the README's figures are those of the run's own CSV, model and play logs."""

import csv
import re

import pytest
import torch
from conftest import ROOT, run_script
from PIL import Image

import train_a2c_pong as t

DOCS = ROOT / "docs"
MODEL = DOCS / "pong_a2c.pt"
README = (ROOT / "README.md").read_text()


def play(model, *flags: str) -> list[int]:
    """Each game's score, as `python train_a2c_pong.py --play MODEL` prints them."""
    proc = run_script("--play", str(model), *flags, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [int(s) for s in re.findall(r"^game \d+: score ([+-]\d+) \(\d+-\d+\)$", proc.stdout, flags=re.M)]


@pytest.mark.slow
def test_the_shipped_agent_wins_pong_from_random_no_op_starts():
    assert t.load_model(MODEL)[1]["noop_max"] == 30  # --play starts each game with 1-29 random frames
    scores = play(MODEL, "--episodes", "3")
    assert len(scores) == 3 and all(s > 0 for s in scores), scores


@pytest.mark.slow
def test_a_freshly_initialized_agent_does_not(tmp_path):
    torch.manual_seed(0)
    fresh = tmp_path / "fresh.pt"
    torch.save(t.model_file(t.Config(), t.AtariA2C((4, 84, 84), 6).state_dict(), frame=0), fresh)
    scores = play(fresh, "--episodes", "2")
    assert len(scores) == 2 and all(s < 0 for s in scores) and sum(scores) / 2 < -15, scores


@pytest.fixture(scope="module")
def shipped() -> dict:
    return torch.load(MODEL, weights_only=True)


@pytest.fixture(scope="module")
def record() -> list[dict[str, str]]:
    with (DOCS / "reward_100.csv").open() as f:
        return list(csv.DictReader(f))


def test_the_shipped_model_is_float16_from_a_default_run(shipped):
    assert MODEL.stat().st_size < 7e6
    assert {v.dtype for v in shipped["model"].values()} == {torch.float16}
    assert shipped["pipeline"] == {k: v for k, v in t.pipeline("vector").items()
                                   if k != "repeat_action_probability"}  # saved before --sticky trained
    defaults = t.Config()
    kept = [k for k in t.HYPERPARAMETERS if k in shipped["config"]]
    assert set(t.HYPERPARAMETERS) - set(kept) == {"sticky"}  # saved before --sticky trained: without
    assert {k: shipped["config"][k] for k in kept} == {k: getattr(defaults, k) for k in kept}
    assert "runs_dir" not in shipped["config"]  # no path of the training machine


def test_the_csv_ends_where_the_run_solved_and_the_model_is_from_there(shipped, record):
    means = [float(r["reward_100"]) for r in record]
    assert [int(r["games"]) for r in record] == list(range(1, len(record) + 1))
    assert means[-1] > 18 and max(means[99:-1]) <= 18  # the first full 100-game window above 18
    assert shipped["frame"] == int(record[-1]["frames"])  # model_best.pt: the solving weights


def test_the_readmes_run_figures_are_the_csvs(shipped, record):
    frames, wall_s, games = int(record[-1]["frames"]), float(record[-1]["wall_s"]), len(record)
    said = re.search(r"Solved in ([\d,]+) frames \(([\d,]+) games\) after (\d+) h (\d+) min of "
                     r"training, ([\d,]+) frames per second, at commit `([0-9a-f]{7,40})`",
                     README.replace("\n", " "))
    assert said, "the README's sentence on the full run is missing"
    assert int(said[1].replace(",", "")) == frames and int(said[2].replace(",", "")) == games
    assert int(said[3]) * 60 + int(said[4]) == round(wall_s / 60)
    assert int(said[5].replace(",", "")) == round(frames / wall_s)
    assert shipped["commit"].startswith(said[6])
    full_run = README.split("\n### The full run\n")[1].split("\n### ")[0]  # not the sticky run's
    milestones = re.findall(r"(?<![\w.])([+-]?\d+) at (\d+\.\d)M\b", full_run.replace("\n", " "))
    assert len(milestones) >= 5
    for mean, at in milestones:
        first = next(int(r["frames"]) for r in record if float(r["reward_100"]) >= int(mean))
        assert f"{first / 1e6:.1f}" == at, (mean, at)


def test_the_readmes_score_table_is_the_play_logs():
    logs = (DOCS / "reference.md").read_text()
    rows = re.findall(r"^\| (sampled|greedy) \| (0|0\.25) \| "
                      r"`(python train_a2c_pong.py --play docs/pong_a2c.pt [^`]*)` \| "
                      r"([+-][\d.]+) \| (\d+) of 20 \|$", README, flags=re.M)
    assert [r[:2] for r in rows] == [(a, p) for p in ("0", "0.25") for a in ("sampled", "greedy")]
    for actions, sticky, command, mean, wins in rows:
        log = re.search(re.escape(f"$ {command}") + r"\n(.*?)```", logs, flags=re.S)
        assert log, f"no output of {command} in docs/reference.md"
        how = f"playing on cpu with 1 torch thread: {actions} actions, sticky actions {sticky} ("
        assert log[1].startswith(how)
        assert f"mean score over 20 games: {mean}, won {wins} of 20 (sticky actions {sticky}, " in log[1]
        scores = [int(x) for x in re.findall(r"^game \d+: score ([+-]\d+) \(\d+-\d+\)$", log[1], flags=re.M)]
        assert len(scores) == 20 and f"{sum(scores) / 20:+.2f}" == mean
        assert sum(x > 0 for x in scores) == int(wins)


def test_the_gif_at_the_top_of_the_readme_is_a_game_of_over_a_minute():
    gif = DOCS / "pong.gif"
    assert "](docs/pong.gif)" in README.split("\n## ")[0]  # shown above the first section
    assert gif.stat().st_size < 3.2e6
    with Image.open(gif) as im:
        assert im.size == (160, 210) and im.n_frames > 15 * 60  # at least a minute of play
    assert "docs/reward_100.png" in README and (DOCS / "reward_100.png").is_file()
