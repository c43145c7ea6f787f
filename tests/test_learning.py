"""Proof of learning on the CPU: the program's own loop, network, unpack_batch and update learn
"catch" (tests/catch_env.py), and two sabotaged variants of the method do not.

Hyperparameters are the seed's except those the task needs, named in TASK: with the seed's
Adam eps of 1e-3 and clip of 0.1 the steps are tuned for millions of Pong frames, far more than
CI's two cores can afford; standard Adam (eps 1e-8) with a clip of 0.5 learns catch in tens of
thousands of frames. Each run takes about a minute on a 2-core CI machine.
"""

import dataclasses

import numpy as np
from catch_env import CatchVectorEnv

import train_a2c_pong as t

TASK = {"adam_eps": 1e-8, "clip_grad": 0.5, "envs": 50}
FRAMES = 100_000
BAR = 0.5  # 100-episode mean reward; a random policy scores about -0.45 (measured below)


def random_policy_mean(episodes: int = 2000) -> float:
    env = CatchVectorEnv(50)
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    rewards: list[float] = []
    while len(rewards) < episodes:
        _, r, done, _, _ = env.step(rng.integers(0, 3, size=50))
        rewards += r[done].tolist()
    return float(np.mean(rewards))


def train_catch(tmp_path) -> t.TrainResult:
    cfg = t.Config(runs_dir=str(tmp_path), max_frames=FRAMES, stop_reward=BAR, **TASK)
    result = t.train(cfg, env=CatchVectorEnv(cfg.envs))
    print(f"frames {result.frames}, mean {result.mean_reward:.2f}, best {result.best_mean_reward:.2f}")
    return result


def test_random_policy_is_far_below_the_bar():
    assert random_policy_mean() < BAR - 0.75


def test_a2c_learns_catch(tmp_path):
    result = train_catch(tmp_path)
    assert result.solved and result.mean_reward > BAR


def test_flipped_policy_loss_sign_does_not_learn(tmp_path, monkeypatch):
    real = t.a2c_losses

    def flipped(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), policy=-real(*args, **kwargs).policy)

    monkeypatch.setattr(t, "a2c_losses", flipped)
    assert not train_catch(tmp_path).solved


def test_dropping_the_bootstrap_term_does_not_learn(tmp_path, monkeypatch):
    real = t.unpack_batch

    def no_bootstrap(batch, net, gamma, reward_steps, device="cpu"):
        cut = [dataclasses.replace(e, last_state=None) for e in batch]
        return real(cut, net, gamma, reward_steps, device)

    monkeypatch.setattr(t, "unpack_batch", no_bootstrap)
    assert not train_catch(tmp_path).solved
