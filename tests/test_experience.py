"""Our vectorised N-step builder must yield item for item what ptan's list source yields."""

import itertools

import gymnasium as gym
import numpy as np
import ptan
import pytest

import train_a2c_pong as t


class Scripted(gym.Env):
    """Deterministic: episode k of env e lasts lengths[e][k % len] steps; rewards vary by step."""

    observation_space = gym.spaces.Box(0, 10_000, (3,), np.int64)
    action_space = gym.spaces.Discrete(3)

    def __init__(self, env_id: int, lengths: list[int]) -> None:
        self.env_id, self.lengths, self.episode, self.t = env_id, lengths, -1, 0

    def _obs(self) -> np.ndarray:
        return np.array([self.env_id, self.episode, self.t])

    def reset(self, *, seed=None, options=None):
        self.episode += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        reward = float((self.t * (int(action) + 1)) % 5 - 2) * (1 if self.env_id % 2 else -1)
        done = self.t >= self.lengths[self.episode % len(self.lengths)]
        truncated = done and self.episode % 3 == 2  # some episodes end by truncation
        return self._obs(), reward, done and not truncated, truncated, {}


def scripted_action(obs: np.ndarray) -> int:
    env_id, episode, step = (int(v) for v in obs)
    return (7 * env_id + 3 * episode + step * step) % 3


class ScriptedAgent(ptan.agent.BaseAgent):
    def __call__(self, states, agent_states):
        return [scripted_action(s) for s in states], agent_states


class ListVectorEnv:
    """A list of envs behind the VectorEnv protocol, reset in the step that ends an episode."""

    def __init__(self, envs):
        self.envs = envs

    def reset(self, *, seed=None):
        return np.stack([e.reset()[0] for e in self.envs]), {}

    def step(self, actions):
        out = []
        for env, a in zip(self.envs, actions, strict=True):
            obs, r, term, trunc, _ = env.step(a)
            if term or trunc:
                obs, _ = env.reset()
            out.append((obs, r, term, trunc))
        obs, r, term, trunc = map(np.array, zip(*out, strict=True))
        return obs, r, term, trunc, {}

    def send(self, actions):
        self._sent = actions

    def recv(self):
        return self.step(self._sent)


LENGTHS = [[1, 7, 3, 5, 2], [4, 4, 9], [2, 6, 1, 5], [11, 3, 4]]


def sources(steps: int, gamma: float, overlap: bool = False):
    ours = t.VectorExperienceSource(
        ListVectorEnv([Scripted(i, ls) for i, ls in enumerate(LENGTHS)]),
        act=lambda obs: np.array([scripted_action(o) for o in obs]), gamma=gamma, steps_count=steps,
        overlap=overlap)
    theirs = ptan.experience.ExperienceSourceFirstLast(
        [Scripted(i, ls) for i, ls in enumerate(LENGTHS)], ScriptedAgent(), gamma=gamma, steps_count=steps)
    return ours, theirs


@pytest.mark.parametrize("overlap", [False, True], ids=["sync", "async-envs"])
@pytest.mark.parametrize("steps", [1, 2, 4])
def test_items_match_ptan_list_source_including_episode_ends(steps, overlap):
    ours, theirs = sources(steps, gamma=0.9, overlap=overlap)
    n = 400
    mine = list(itertools.islice(ours, n))
    ref = list(itertools.islice(theirs, n))
    ended = 0
    for k, (a, b) in enumerate(zip(mine, ref, strict=True)):
        assert np.array_equal(a.state, b.state), k
        assert a.action == b.action, k
        assert a.reward == pytest.approx(b.reward, abs=1e-12), k
        assert (a.last_state is None) == (b.last_state is None), k
        if a.last_state is None:
            ended += 1
        else:
            assert np.array_equal(a.last_state, b.last_state), k
            assert a.last_state[2] - a.state[2] == steps  # last_state is N steps on, not N+1
    assert ended > 50  # plenty of tail windows were compared


def test_episode_rewards_match_ptan():
    ours, theirs = sources(4, gamma=0.99)
    mine_r, ref_r = [], []
    for _ in itertools.islice(ours, 300):
        mine_r += ours.pop_total_rewards()
    for _ in itertools.islice(theirs, 300):
        ref_r += theirs.pop_total_rewards()
    assert len(mine_r) > 20
    assert mine_r == pytest.approx(ref_r)


def test_no_window_spans_two_episodes():
    ours, _ = sources(4, gamma=1.0)
    for item in itertools.islice(ours, 400):
        if item.last_state is not None:
            assert item.last_state[1] == item.state[1]  # same episode index


def act_calls_when_each_item_is_yielded(overlap: bool) -> list[int]:
    calls = 0

    def act(obs):
        nonlocal calls
        calls += 1
        return np.array([scripted_action(o) for o in obs])

    env = ListVectorEnv([Scripted(i, ls) for i, ls in enumerate(LENGTHS)])
    source = t.VectorExperienceSource(env, act, gamma=0.9, steps_count=2, overlap=overlap)
    return [calls for _ in itertools.islice(source, 200)]


def test_async_envs_choose_the_next_actions_before_the_caller_trains():
    """The seed's order picks a step's actions after the caller has used the items before it
    (and trained on them); --async-envs picks them one step ahead, while the envs run."""
    sync, overlapped = act_calls_when_each_item_is_yielded(False), act_calls_when_each_item_is_yielded(True)
    assert sync[0] == 1 and sync[-1] > 10
    assert overlapped == [c + 1 for c in sync]
