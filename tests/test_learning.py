"""Proof of learning on the CPU: the program's own loop, network, unpack_batch and update learn
"catch" (tools/catch_env.py), eager, with --bf16 and with --compile, and two sabotaged variants
of the method do not.

Hyperparameters are the seed's except those the task needs, named in TASK: with the seed's
Adam eps of 1e-3 and clip of 0.1 the steps are tuned for millions of Pong frames, far more than
CI's two cores can afford; standard Adam (eps 1e-8) with a clip of 0.5 learns catch in tens of
thousands of frames. The real learner runs once (module fixture); each sabotaged variant then
gets the frames it needed: "does not learn" means "not in the frames the method took", and
CI's two cores are not spent on frames that show nothing more.
"""

import dataclasses

import numpy as np
import pytest
from catch_env import BAR, FRAMES, TASK, CatchVectorEnv

import train_a2c_pong as t

pytestmark = pytest.mark.slow  # each test trains, or samples 2,000 games of catch

NATIVE_BF16 = t.cpu_has_bf16()


def random_policy_mean(episodes: int = 2000) -> float:
    env = CatchVectorEnv(50)
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    rewards: list[float] = []
    while len(rewards) < episodes:
        _, r, done, _, _ = env.step(rng.integers(0, 3, size=50))
        rewards += r[done].tolist()
    return float(np.mean(rewards))


def train_catch(tmp_path, frames: int = FRAMES, **flags) -> t.TrainResult:
    cfg = t.Config(runs_dir=str(tmp_path), max_frames=frames, stop_reward=BAR, **TASK, **flags)
    result = t.train(cfg, env=CatchVectorEnv(cfg.envs))
    print(f"frames {result.frames}, mean {result.mean_reward:.2f}, best {result.best_mean_reward:.2f}")
    return result


def test_random_policy_is_far_below_the_bar():
    assert random_policy_mean() < BAR - 0.75


@pytest.fixture(scope="module")
def learned(tmp_path_factory) -> t.TrainResult:
    return train_catch(tmp_path_factory.mktemp("learned"))


def sabotage_budget(learned: t.TrainResult) -> int:
    assert learned.solved  # else there is no budget to compare with (test_a2c_learns_catch says why)
    return learned.frames


def test_a2c_learns_catch(learned):
    assert learned.solved and learned.mean_reward > BAR


NEEDS_BF16 = pytest.mark.skipif(not NATIVE_BF16, reason="no native bfloat16 here, where --bf16 is refused")


@NEEDS_BF16
def test_a2c_learns_catch_under_bf16(tmp_path):
    result = train_catch(tmp_path, bf16=True)
    assert result.solved and result.mean_reward > BAR


@pytest.mark.long
@pytest.mark.usefixtures("compiles")
@pytest.mark.parametrize("bf16", [False, pytest.param(True, marks=NEEDS_BF16)], ids=["float32", "bf16"])
def test_a2c_learns_catch_compiled(tmp_path, bf16):
    result = train_catch(tmp_path, compile=True, bf16=bf16)
    assert result.solved and result.mean_reward > BAR


def test_flipped_policy_loss_sign_does_not_learn(tmp_path, monkeypatch, learned):
    real = t.a2c_losses

    def flipped(*args, **kwargs):
        losses = real(*args, **kwargs)
        return losses._replace(policy=-losses.policy)

    monkeypatch.setattr(t, "a2c_losses", flipped)
    assert not train_catch(tmp_path, sabotage_budget(learned)).solved


def test_dropping_the_bootstrap_term_does_not_learn(tmp_path, monkeypatch, learned):
    real = t.unpack_batch

    def no_bootstrap(batch, net, gamma, reward_steps, device="cpu"):
        cut = [dataclasses.replace(e, last_state=None) for e in batch]
        return real(cut, net, gamma, reward_steps, device)

    monkeypatch.setattr(t, "unpack_batch", no_bootstrap)
    assert not train_catch(tmp_path, sabotage_budget(learned)).solved
