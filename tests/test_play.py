"""--play on the pipeline a model was trained on, and options that a mode would ignore refused."""

import re
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ENV, limit_file_size, model_data, run_script, start_script
from PIL import Image, ImageSequence

import train_a2c_pong as t


def model_file(tmp_path, backend: str, **change) -> str:
    torch.manual_seed(0)
    data = model_data(t.Config(backend=backend))
    data["pipeline"].update(change)
    path = tmp_path / f"{backend}.pt"
    torch.save(data, path)
    return str(path)


class ScriptedPlayer:
    """Stands in for the policy: records what play feeds the model, answers with seeded actions."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []
        self.actions: list[int] = []
        self.rng = np.random.default_rng(3)

    def sampler(self, net, device, greedy=False):
        def act(obs: np.ndarray) -> np.ndarray:
            self.seen.append(np.array(obs[0]))
            self.actions.append(int(self.rng.integers(0, 6)))
            return np.array([self.actions[-1]])

        return act


def training_observations(backend: str, seed: int, actions: list[int]) -> list[np.ndarray]:
    """Env 0 of a training run with this seed (env i takes seed + i), stepped with `actions`."""
    if backend == "vector":
        env = t.make_vector_env(1, 1)
        obs = [env.reset(seed=seed)[0][0]]
        for a in actions[:-1]:
            obs.append(env.step(np.array([a]))[0][0])
    else:
        env = t.make_pong_env(0, seed)
        obs = [env.reset()[0]]
        for a in actions[:-1]:
            obs.append(env.step(a)[0])
    return obs


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["vector", "ptan"])
def test_play_feeds_the_model_the_frames_of_its_training_env(tmp_path, monkeypatch, backend):
    player = ScriptedPlayer()
    monkeypatch.setattr(t, "policy_sampler", player.sampler)
    assert t.play(model_file(tmp_path, backend), 1, None, torch.device("cpu"), seed=5) is None
    assert len(player.seen) > 500  # a whole game of Pong
    expected = training_observations(backend, 5, player.actions)
    assert all(np.array_equal(a, b) for a, b in zip(player.seen, expected, strict=True))
    if backend == "vector":  # the default's frames: the notebook's (tests/test_frames.py)
        assert all(np.array_equal(player.seen[0][k], player.seen[0][3]) for k in range(3))


def test_sticky_actions_change_the_game_and_greedy_takes_the_arg_max(tmp_path):
    actions = np.random.default_rng(0).integers(0, 6, 300)
    runs = []
    for sticky in (0.0, 0.0, 0.25):
        env = t.PlayEnv("vector", 9, sticky, record=False)
        env.start()
        runs.append(np.stack([env.step(int(a))[0][0] for a in actions]))
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])
    net = t.AtariA2C((4, 84, 84), 6)
    obs = np.random.default_rng(1).integers(0, 256, (8, 4, 84, 84), dtype=np.uint8)
    greedy = t.policy_sampler(net, torch.device("cpu"), greedy=True)(obs)
    assert np.array_equal(greedy, net(torch.from_numpy(obs))[0].argmax(dim=1).numpy())


def one_line(capsys, argv: list[str]) -> str:
    assert t.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    return err[0]


def test_play_refuses_a_model_whose_pipeline_it_cannot_rebuild(tmp_path, capsys):
    plain = tmp_path / "plain.pt"
    torch.save(t.AtariA2C((4, 84, 84), 6).state_dict(), plain)
    assert "no pipeline settings" in one_line(capsys, ["--play", str(plain)])
    vector = model_file(tmp_path, "vector")
    says = one_line(capsys, ["--play", vector, "--backend", "ptan"])
    assert "trained with --backend vector, not ptan" in says
    other = model_file(tmp_path, "vector", grayscale="opencv")  # what ale-py's vector env cannot make
    assert "does not make" in one_line(capsys, ["--play", other])


@pytest.mark.parametrize("argv,says", [
    (["--episodes", "5"], "--episodes needs --play"),
    (["--record", "x.gif"], "--record needs --play"),
    (["--greedy"], "--greedy needs --play"),
    (["--play", "m.pt", "--lr", "0.01"], "--lr is a training option"),
    (["--play", "m.pt", "--envs", "4"], "--envs is a training option"),
    (["--play", "m.pt", "--resume", "c.pt"], "--play and --resume are two modes"),
])
def test_an_option_the_mode_would_ignore_is_refused(capsys, argv, says):
    assert says in one_line(capsys, argv)


@pytest.mark.slow
def test_play_records_a_gif_at_the_games_speed_that_holds_the_last_screen(pong_run, tmp_path):
    _, run_dir = pong_run
    gif = tmp_path / "game.gif"
    proc = run_script("--play", str(run_dir / "model_best.pt"), "--episodes", "1", "--record", str(gif))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (game,) = re.findall(r"^game 1: score ([+-]\d+) \((\d+)-(\d+)\)$", proc.stdout, flags=re.M)
    score, ours, theirs = (int(x) for x in game)
    assert score == ours - theirs and max(ours, theirs) == 21  # a whole game, points counted
    assert "mean score over 1 game: " in proc.stdout and f", won {int(score > 0)} of 1 " in proc.stdout
    steps = int(re.search(r"wrote .*: game 1, (\d+) agent steps", proc.stdout)[1])
    with Image.open(gif) as im:
        assert im.size == (160, 210)
        frames = [(np.asarray(f.convert("RGB")), f.info["duration"]) for f in ImageSequence.Iterator(im)]
    # Pillow merges equal frames and adds up their delays; ALE's last screen is often the one before
    played_ms = sum(d for _, d in frames) - t.FINAL_HOLD_MS
    assert abs(played_ms - steps * 4000 / 60) <= 10  # 4 emulator frames at 60 Hz per agent step
    assert frames[-1][1] >= t.FINAL_HOLD_MS
    score_band = slice(0, 24)  # the rows of the screen that show the score
    assert not np.array_equal(frames[-1][0][score_band], frames[0][0][score_band])  # not the next 0-0


@pytest.mark.slow
def test_play_says_how_it_plays_and_shows_the_score_during_a_slow_game(pong_run, monkeypatch, capsys):
    _, run_dir = pong_run
    two = {**ENV, "OMP_NUM_THREADS": "2"}  # torch's own choice would be 2 threads
    proc = run_script("--play", str(run_dir / "checkpoint.pt"), "--episodes", "1", "--sticky", "0.25",
                      env=two)
    assert proc.stdout.splitlines()[0] == (
        "playing on cpu with 1 torch thread: sampled actions, sticky actions 0.25 (trained with 0)")
    proc = run_script("--play", str(run_dir / "checkpoint.pt"), "--episodes", "1", "--torch-threads", "2",
                      "--greedy")
    assert proc.stdout.splitlines()[0] == (
        "playing on cpu with 2 torch threads: greedy actions, sticky actions 0 (as trained)")
    monkeypatch.setattr(t, "STATUS_EVERY_S", 0.0)
    t.play(str(run_dir / "checkpoint.pt"), 1, None, torch.device("cpu"), seed=1)
    status = re.findall(r"^\[status\] game 1: (\d+)-(\d+) so far$", capsys.readouterr().out, flags=re.M)
    assert len(status) > 100 and status == sorted(status, key=lambda p: int(p[0]) + int(p[1]))


@pytest.mark.slow
def test_a_record_path_that_cannot_be_written_is_refused_before_playing(pong_run, tmp_path):
    _, run_dir = pong_run
    for path, says in [(tmp_path / "no" / "such" / "game.gif", "does not exist"), (tmp_path, "is a folder"),
                       (tmp_path / "game.mp4", "only .gif"), (Path("/proc/game.gif"), "cannot write in")]:
        proc = run_script("--play", str(run_dir / "checkpoint.pt"), "--record", str(path), timeout=30)
        assert proc.returncode == 2 and "game 1" not in proc.stdout, proc.stdout
        (line,) = proc.stderr.strip().splitlines()
        assert says in line and str(path) in line


@pytest.mark.slow
def test_a_gif_the_disk_refuses_leaves_the_one_before_and_says_so(pong_run, tmp_path):
    """PIL wrote straight to the path: a full disk left a torn GIF where the last one was."""
    _, run_dir = pong_run
    gif = tmp_path / "game.gif"
    gif.write_bytes(b"the one before")
    proc = run_script("--play", str(run_dir / "checkpoint.pt"), "--episodes", "1", "--record", str(gif),
                      preexec_fn=lambda: limit_file_size(2**16))
    assert proc.returncode == 1 and "game 1: score" in proc.stdout, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: could not write {gif} (File too large)"), line
    assert gif.read_bytes() == b"the one before" and [p.name for p in tmp_path.iterdir()] == ["game.gif"]


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_while_playing_stops_cleanly_with_the_games_so_far(pong_run, sig, code):
    _, run_dir = pong_run
    proc = start_script("--play", str(run_dir / "checkpoint.pt"), "--episodes", "50")
    seen = ""
    while not seen.endswith("\n") or not re.search(r"^game 1: score", seen, flags=re.M):
        seen += proc.stdout.readline()  # it is playing
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code and "Traceback" not in err, err
    assert f"{signal.Signals(sig).name} received" in out
    played = len(re.findall(r"^game \d+: score", seen + out, flags=re.M))
    games = "1 game" if played == 1 else f"{played} games"
    assert 1 <= played < 50 and f"mean score over {games}: " in out and f" of {played} (" in out
