"""The script as a user runs it: real Pong ROM, real subprocess, real event files."""

import itertools
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, run_script, scalars

import train_a2c_pong as t

SCALARS = {"fps", "reward_100", "reward", "advantage", "values", "batch_rewards", "loss_entropy",
           "loss_policy", "loss_value", "loss_total", "grad_l2", "grad_max", "grad_var"}


def check_run(run_dir) -> None:
    acc = scalars(run_dir)
    assert SCALARS <= set(acc.Tags()["scalars"]), acc.Tags()["scalars"]
    for name in ("model_best.pt", "checkpoint.pt"):
        saved = torch.load(run_dir / name, weights_only=True)
        net = t.AtariA2C((4, 84, 84), 6)
        net.load_state_dict(saved["model"])
        assert saved["pipeline"] == t.pipeline(json.loads((run_dir / "config.json").read_text())["backend"])
    assert (run_dir / "config.json").is_file()
    mask = os.umask(0)
    os.umask(mask)
    for name in ("model_best.pt", "checkpoint.pt", "config.json"):  # readable alike
        assert (run_dir / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


@pytest.mark.slow
def test_vector_backend_trains_on_pong_and_writes_all_scalars(pong_run):
    proc, run_dir = pong_run
    check_run(run_dir)
    status = re.findall(r"\[status\] frames ([\d,]+) \| fps \d[\d,]* \| episodes (\d+) \| "
                        r"mean reward (-|[+-]?\d+\.\d\d) \| elapsed \d+:\d\d:\d\d \| run \d+:\d\d:\d\d$",
                        proc.stdout, flags=re.M)
    assert status, proc.stdout
    frames, episodes, mean = status[-1]  # the last line is printed when training stops
    assert frames == "3,000" and int(episodes) >= 1 and -21 <= float(mean) <= 21
    said = re.fullmatch(r"stopped \(--max-frames 3,000 done\) at frame 3,000; to go on: "
                        r"(.+) train_a2c_pong\.py --resume (.+)", proc.stdout.splitlines()[-1])
    assert said and said[2] == str(run_dir / "checkpoint.pt"), proc.stdout.splitlines()[-1]
    assert said[1] in ("python", os.path.relpath(sys.executable, ROOT))  # the interpreter that ran it
    rewards = [e.value for e in scalars(run_dir).Scalars("reward")]
    assert rewards and all(-21 <= r <= 21 and r == int(r) for r in rewards)


@pytest.mark.slow
def test_ptan_backend_runs_the_seed_pipeline(tmp_path):
    proc = run_script("--backend", "ptan", "--envs", "2", "--max-frames", "2400", "--runs-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = tmp_path.iterdir()
    check_run(run_dir)


@pytest.mark.slow
def test_async_envs_trains_on_pong_and_is_refused_with_ptan(tmp_path):
    proc = run_script("--async-envs", "--envs", "2", "--max-frames", "2400", "--runs-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = tmp_path.iterdir()
    check_run(run_dir)
    assert t.load_checkpoint(str(run_dir / "checkpoint.pt"))["config"]["async_envs"] is True
    proc = run_script("--async-envs", "--backend", "ptan", "--runs-dir", str(tmp_path))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert len(list(tmp_path.iterdir())) == 1  # no folder for a run that never started


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_python_without_the_packages_is_one_line_and_status_2():
    """The README's commands in a fresh shell, where `python` is not .venv's (-S: no site-packages)."""
    command = [sys.executable, "-S", str(ROOT / "train_a2c_pong.py"), "--play", "docs/pong_a2c.pt"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    assert proc.stderr.count("\n") == 1 and " is not installed for " in proc.stderr, proc.stderr
    assert ".venv/bin/python" in proc.stderr and "Traceback" not in proc.stderr


def test_cuda_without_a_gpu_is_one_line_and_status_2(tmp_path):
    proc = run_script("--cuda", "--runs-dir", str(tmp_path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "CUDA" in lines[0] and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())  # no run folder for a run that never started


@pytest.mark.parametrize("args,says", [
    (["--envs", "0"], "argument --envs: must be a positive integer, got '0'"),
    (["--batch-size", "0"], "--batch-size: must be a positive integer"),
    (["--max-frames", "-5"], "--max-frames: must be a positive integer"),
    (["--lr", "nan"], "--lr: must be a positive number, got 'nan'"), (["--lr", "inf"], "--lr: must be"),
    (["--gamma", "1.5"], "--gamma: must be a number in [0, 1]"), (["--sticky", "1.5"], "--sticky: must be"),
    (["--envs", "2.5"], "--envs: must be a positive integer, got '2.5'"),
    (["--backend", "gym"], "invalid choice: 'gym'"), (["--name", "../elsewhere"], "a plain name"),
    (["--play", "m.pt", "--episodes", "0"], "--episodes: must be"), (["--frobnicate"], "unrecognized"),
    (["--lr"], "expected one argument"),
    (["--runs-dir", "", "--max-frames", "1"], "--runs-dir: must be a non-empty path, got ''"),
    (["--resume", ""], "--resume: must be"), (["--play", ""], "--play: must be"),
    (["--play", "m.pt", "--record", ""], "--record: must be"),
])
def test_every_refusal_of_bad_input_is_one_line_and_status_2(capsys, monkeypatch, tmp_path, args, says):
    monkeypatch.chdir(tmp_path)  # where a refusal that failed would write ('' is the current folder)
    assert t.main(args) == 2
    out, err = capsys.readouterr()
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and says in line and line.endswith("(see --help)"), line
    assert out == ""


@pytest.mark.slow
def test_argparse_refusals_are_one_line_from_the_shell_too():
    proc = run_script("--lr", "-1")
    assert proc.returncode == 2 and proc.stdout == ""
    said = "error: argument --lr: must be a positive number, got '-1' (see --help)"
    assert proc.stderr.splitlines() == [said]


def test_help_shows_the_three_modes_the_files_and_the_exit_statuses():
    text = t.build_parser().format_help()
    for section in ("training (", "training and --play:", "resume:", "play:"):
        assert section in text
    said = ("model_best.pt", "checkpoint.pt", "Exit status", "130", "141", "143")
    assert all(word in text for word in said)


@pytest.mark.slow
def test_a_runs_dir_that_is_a_file_is_one_line_and_status_2(tmp_path):
    not_a_folder = tmp_path / "runs"
    not_a_folder.write_text("")
    proc = run_script("--runs-dir", str(not_a_folder), "--max-frames", "10")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: --runs-dir") and str(not_a_folder) in line


def first_items(backend: str, seed: int, n: int = 120):
    cfg = t.Config(backend=backend, envs=2, seed=seed, env_threads=1)
    t.seed_everything(seed)
    _, source, _ = t.net_and_source(cfg, torch.device("cpu"))
    items = list(itertools.islice(source, n))
    return np.stack([i.state for i in items]), [i.action for i in items]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["vector", "ptan"])
def test_one_seed_reproduces_and_two_seeds_differ(backend):
    states_a, actions_a = first_items(backend, 42)
    states_b, actions_b = first_items(backend, 42)
    _, actions_c = first_items(backend, 7)
    assert np.array_equal(states_a, states_b) and actions_a == actions_b
    assert actions_a != actions_c


def test_more_torch_threads_than_cores_are_said_to_be_slower(capsys, monkeypatch):
    monkeypatch.setattr(t, "cores", lambda: 2)
    before = torch.get_num_threads()
    try:
        t.prepare(t.Config(torch_threads=3), torch.device("cpu"))
        said = "training on cpu: 3 torch threads (more than the 2 cores this process may use: slower), "
        assert capsys.readouterr().out.startswith(said)
        t.prepare(t.Config(torch_threads=2), torch.device("cpu"))
        assert capsys.readouterr().out.startswith("training on cpu: 2 torch threads, 2 env threads")
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_the_first_line_says_where_it_trains(pong_run):
    proc, _ = pong_run
    first = proc.stdout.splitlines()[0]
    n = torch.get_num_threads()
    assert first.startswith(f"training on cpu: {n} torch thread{'s' * (n != 1)}, ")
    assert first.endswith(" env threads")

