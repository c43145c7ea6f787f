"""The shipped agents and their runs' records. The notebook-protocol agent (docs/pong_a2c.pt) and
the sticky-trained one (docs/pong_a2c_sticky.pt) win Pong on the real ROM through --play, with
random no-op starts, as they were trained; a freshly initialized agent does not. Each run's CSV
ends where it stopped (the full run solved; the sticky run stopped unsolved at 30M frames) and
its model is its best; what the README says of them: tests/test_docs.py."""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from conftest import ROOT, model_data, run_script

import train_a2c_pong as t

DOCS = ROOT / "docs"


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
