"""The shipped agents and their runs' records. The notebook-protocol agent (docs/pong_a2c.pt) and
the sticky-trained one (docs/pong_a2c_sticky.pt) win Pong on the real ROM through --play, with
random no-op starts, as they were trained; a freshly initialized agent does not. The README's
figures of each run are that run's CSV and model (the full run solved; the sticky run stopped
unsolved at 30M frames), its score table the play logs."""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from conftest import ROOT, model_data, run_script
from PIL import Image

import train_a2c_pong as t

DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()


@dataclass(frozen=True)
class Agent:
    model: Path
    record: Path  # the run's reward_100 CSV (tools/plot_reward.py)
    section: str  # the README's section on its run
    sticky: float  # the sticky actions it was trained with
    solved: bool  # whether its run reached a 100-game mean above 18


FULL = Agent(DOCS / "pong_a2c.pt", DOCS / "reward_100.csv", "The full run", 0.0, True)
STICKY = Agent(DOCS / "pong_a2c_sticky.pt", DOCS / "reward_100_sticky.csv", "The sticky-action run",
               0.25, False)
AGENTS = pytest.mark.parametrize("agent", [FULL, STICKY], ids=["full", "sticky"])


def play(model: Path, *flags: str) -> tuple[str, list[int]]:
    """The first line and each game's score, as `python train_a2c_pong.py --play MODEL` prints them."""
    proc = run_script("--play", str(model), *flags, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scores = re.findall(r"^game \d+: score ([+-]\d+) \(\d+-\d+\)$", proc.stdout, flags=re.M)
    return proc.stdout.splitlines()[0], [int(s) for s in scores]


def section(title: str) -> str:
    """The text of the README's section `### title`, on one line."""
    return README.split(f"\n### {title}\n")[1].split("\n### ")[0].replace("\n", " ")


@pytest.mark.slow
def test_the_notebook_protocol_agent_wins_pong_from_random_no_op_starts():
    assert t.load_model(FULL.model)[1]["noop_max"] == 30  # --play starts each game with 1-29 random frames
    first, scores = play(FULL.model, "--episodes", "3")
    assert first.endswith("sampled actions, sticky actions 0 (as trained)")
    assert len(scores) == 3 and all(s > 0 for s in scores), scores


@pytest.mark.slow
@pytest.mark.parametrize("actions", ["sampled", "greedy"])
def test_the_sticky_trained_agent_wins_under_sticky_actions(actions):
    first, scores = play(STICKY.model, "--episodes", "3", *(["--greedy"] if actions == "greedy" else []))
    assert first.endswith(f"{actions} actions, sticky actions 0.25 (as trained)")
    assert len(scores) == 3 and all(s > 0 for s in scores), scores


@pytest.mark.slow
def test_a_freshly_initialized_agent_does_not(tmp_path):
    torch.manual_seed(0)
    fresh = tmp_path / "fresh.pt"
    torch.save(model_data(), fresh)
    _, scores = play(fresh, "--episodes", "2")
    assert len(scores) == 2 and all(s < 0 for s in scores) and sum(scores) / 2 < -15, scores


@functools.cache  # read once per agent, as the module-scoped fixtures did: tests only read them
def shipped(agent: Agent) -> dict:
    return torch.load(agent.model, weights_only=True)


@functools.cache
def record(agent: Agent) -> list[dict[str, str]]:
    with agent.record.open() as f:
        return list(csv.DictReader(f))


@AGENTS
def test_a_shipped_model_is_float16_from_a_default_run_but_its_sticky_actions(agent):
    saved = shipped(agent)
    assert agent.model.stat().st_size < 7e6
    assert {v.dtype for v in saved["model"].values()} == {torch.float16}
    defaults = t.Config()
    if agent is FULL:  # saved before --sticky existed: without the setting, and plays as trained without
        without = {k: v for k, v in t.pipeline("vector").items() if k != "repeat_action_probability"}
        assert saved["pipeline"] == without
        assert set(t.HYPERPARAMETERS) - set(saved["config"]) == {"sticky"}
    else:
        assert saved["pipeline"] == t.pipeline("vector", agent.sticky)
        assert saved["config"]["sticky"] == agent.sticky
    assert t.load_model(agent.model)[1]["repeat_action_probability"] == agent.sticky
    kept = [k for k in t.HYPERPARAMETERS if k in saved["config"] and k != "sticky"]
    assert {k: saved["config"][k] for k in kept} == {k: getattr(defaults, k) for k in kept}
    assert "runs_dir" not in saved["config"]  # no path of the training machine


@AGENTS
def test_the_csv_ends_where_the_run_stopped_and_the_model_is_its_best(agent):
    rows = record(agent)
    means = [float(r["reward_100"]) for r in rows]
    assert [int(r["games"]) for r in rows] == list(range(1, len(rows) + 1))
    if agent.solved:  # the first full 100-game window above 18 ends the run and is its best
        assert means[-1] > 18 and max(means[99:-1]) <= 18
    else:  # stopped at the 30M-frame cap of its issue, never above 18
        assert max(means[99:]) <= 18 and 29.9e6 < int(rows[-1]["frames"]) <= 30e6
    best = rows[means.index(max(means))]  # model_best.pt is written at each new best mean
    assert shipped(agent)["frame"] == int(best["frames"])


@AGENTS
def test_the_readmes_run_figures_are_the_csvs(agent):
    rows, saved, text = record(agent), shipped(agent), section(agent.section)
    frames, wall_s = int(rows[-1]["frames"]), float(rows[-1]["wall_s"])
    assert ("Solved in" in text) == agent.solved
    said = re.search(r"(?:Solved in|last game ended at) ([\d,]+) frames \(([\d,]+) games\) after "
                     r"(\d+) h (\d+) min of training, ([\d,]+) frames per second, "
                     r"at commit `([0-9a-f]{7,40})`", text)
    assert said, f"the README's sentence on {agent.section} is missing"
    assert int(said[1].replace(",", "")) == frames and int(said[2].replace(",", "")) == len(rows)
    assert int(said[3]) * 60 + int(said[4]) == round(wall_s / 60)
    assert int(said[5].replace(",", "")) == round(frames / wall_s)
    assert saved["commit"].startswith(said[6])
    milestones = re.findall(r"(?<![\w.])([+-]?\d+) at (\d+\.\d)M\b", text)
    assert len(milestones) >= 5
    for mean, at in milestones:
        first = next(int(r["frames"]) for r in rows if float(r["reward_100"]) >= int(mean))
        assert f"{first / 1e6:.1f}" == at, (mean, at)


def test_the_readmes_score_table_is_the_play_logs():
    logs = (DOCS / "reference.md").read_text()
    rows = re.findall(r"^\| (sticky 0\.25|none) \| (sampled|greedy) \| (0\.25|0) \| "
                      r"`(python train_a2c_pong.py --play docs/(pong_a2c(?:_sticky)?\.pt)[^`]*)` \| "
                      r"([+-][\d.]+) \| (\d+) of 20 \|$", README, flags=re.M)
    field_first = [(a, p) for p in ("0.25", "0") for a in ("sampled", "greedy")]
    assert [(r[0], r[4], *r[1:3]) for r in rows] == [
        (trained, agent.model.name, a, p) for trained, agent in (("sticky 0.25", STICKY), ("none", FULL))
        for a, p in field_first]
    for _, actions, sticky, command, _, mean, wins in rows:
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
    for agent in (FULL, STICKY):
        png = agent.record.with_suffix(".png")
        assert f"docs/{png.name}" in README and png.is_file()
