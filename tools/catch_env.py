"""Catch: a pixel task that A2C should master in minutes, in Pong's (4, 84, 84) uint8 format.

A ball falls one cell per step from a random column of a 12x12 grid; the paddle, three cells
wide, on the bottom row starts in a random column and moves left, stays or moves right. The
catch is decided when the ball reaches the bottom row (after 11 steps); the ball then rests
there for DELAY more steps, and the episode ends with +1 for a catch and -1 for a miss. Reaching
the ball often takes more moves than the 4-step reward horizon, and with DELAY = 4 no deciding
move sees the reward inside its own 4-step window: only the bootstrapped value V(s_N) can carry
it back, so an N-step target without that term cannot learn the task.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

# What A2C needs to learn catch on CI's two cores (tests/test_learning.py says why): the notebook's
# hyperparameters but these, a frame budget, and the bar: a 100-episode mean reward that a random
# policy stays far below (test_random_policy_is_far_below_the_bar).
TASK = {"adam_eps": 1e-8, "clip_grad": 0.5, "envs": 50}
FRAMES = 100_000
BAR = 0.5

GRID = 12
CELL = 84 // GRID
STACK = 4
DELAY = 4


class CatchVectorEnv:
    """N games of catch behind the VectorEnv protocol (SameStep autoreset, stacked frames)."""

    single_observation_space = gym.spaces.Box(0, 255, (STACK, 84, 84), np.uint8)
    single_action_space = gym.spaces.Discrete(3)

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs
        self.rng = np.random.default_rng()
        self.ball_col = np.zeros(num_envs, dtype=np.int64)
        self.paddle = np.zeros(num_envs, dtype=np.int64)
        self.t = np.zeros(num_envs, dtype=np.int64)
        self.caught = np.zeros(num_envs, dtype=bool)
        self.frames = np.zeros((num_envs, STACK, 84, 84), dtype=np.uint8)

    def _start(self, idx: np.ndarray) -> None:
        self.ball_col[idx] = self.rng.integers(0, GRID, size=len(idx))
        self.paddle[idx] = self.rng.integers(0, GRID, size=len(idx))
        self.t[idx] = 0
        self.frames[idx] = 0  # zero-filled frame stack at reset, as ptan's wrap_dqn

    def _render(self) -> np.ndarray:
        frame = np.zeros((self.num_envs, 84, 84), dtype=np.uint8)
        rows = np.minimum(self.t, GRID - 1) * CELL
        for i in range(self.num_envs):
            r, c, p = rows[i], self.ball_col[i] * CELL, self.paddle[i] * CELL
            frame[i, r:r + CELL, c:c + CELL] = 255
            frame[i, 84 - CELL:, max(p - CELL, 0):p + 2 * CELL] = 128
        self.frames = np.concatenate([self.frames[:, 1:], frame[:, None]], axis=1)
        return self.frames.copy()

    def reset(self, *, seed: int | None = None) -> tuple[np.ndarray, dict]:
        self.rng = np.random.default_rng(seed)
        self._start(np.arange(self.num_envs))
        return self._render(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        falling = self.t < GRID - 1
        moved = np.clip(self.paddle + np.asarray(actions) - 1, 0, GRID - 1)
        self.paddle = np.where(falling, moved, self.paddle)
        self.t += 1
        landed = self.t == GRID - 1
        self.caught = np.where(landed, np.abs(self.ball_col - self.paddle) <= 1, self.caught)
        done = self.t == GRID - 1 + DELAY
        rewards = np.where(done, np.where(self.caught, 1.0, -1.0), 0.0)
        self._start(np.flatnonzero(done))
        return self._render(), rewards, done, np.zeros_like(done), {}


class CatchEnv(gym.Env):
    """One game of catch as a gymnasium env, for the seed's pipeline (a list of envs stepped by
    ptan's ExperienceSourceFirstLast). Seeded once, like the program's Pong envs."""

    observation_space = CatchVectorEnv.single_observation_space
    action_space = CatchVectorEnv.single_action_space

    def __init__(self, seed: int) -> None:
        self.game = CatchVectorEnv(1)
        self.obs, _ = self.game.reset(seed=seed)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """The next game's first frames: the game restarts itself in the step that ends one."""
        return self.obs[0], {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.obs, rewards, done, _, _ = self.game.step(np.asarray([action]))
        return self.obs[0], float(rewards[0]), bool(done[0]), False, {}
