"""--play on the pipeline a model was trained on, and options that a mode would ignore refused."""

import numpy as np
import pytest
import torch

import train_a2c_pong as t


def model_file(tmp_path, backend: str, **change) -> str:
    torch.manual_seed(0)
    data = t.model_file(t.Config(backend=backend), t.AtariA2C((4, 84, 84), 6).state_dict(), frame=0)
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

    def sampler(self, net, device, bf16=False, greedy=False):
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
    other = model_file(tmp_path, "vector", noop_max=0)
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


def test_the_first_line_says_where_it_trains(pong_run):
    proc, _ = pong_run
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"training on cpu: {torch.get_num_threads()} torch threads, ")
    assert first.endswith(" env threads")
