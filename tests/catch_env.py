"""Catch: a pixel task that A2C should master in minutes, in Pong's (4, 84, 84) uint8 format.

A ball falls one cell per step from a random column of a 12x12 grid; the paddle on the bottom
row starts in a random column and moves left, stays or moves right. When the ball reaches the
bottom row the episode ends with +1 for a catch and -1 for a miss. The paddle often has to move
more cells than the 4-step reward horizon, so the bootstrapped value term matters.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

GRID = 12
CELL = 84 // GRID
STACK = 4


class CatchVectorEnv:
    """N games of catch behind the VectorEnv protocol (SameStep autoreset, stacked frames)."""

    single_observation_space = gym.spaces.Box(0, 255, (STACK, 84, 84), np.uint8)
    single_action_space = gym.spaces.Discrete(3)

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs
        self.rng = np.random.default_rng()
        self.ball_col = np.zeros(num_envs, dtype=np.int64)
        self.ball_row = np.zeros(num_envs, dtype=np.int64)
        self.paddle = np.zeros(num_envs, dtype=np.int64)
        self.frames = np.zeros((num_envs, STACK, 84, 84), dtype=np.uint8)

    def _start(self, idx: np.ndarray) -> None:
        self.ball_col[idx] = self.rng.integers(0, GRID, size=len(idx))
        self.paddle[idx] = self.rng.integers(0, GRID, size=len(idx))
        self.ball_row[idx] = 0
        self.frames[idx] = 0  # zero-filled frame stack at reset, as ptan's wrap_dqn

    def _render(self) -> np.ndarray:
        frame = np.zeros((self.num_envs, 84, 84), dtype=np.uint8)
        for i in range(self.num_envs):
            r, c, p = self.ball_row[i] * CELL, self.ball_col[i] * CELL, self.paddle[i] * CELL
            frame[i, r:r + CELL, c:c + CELL] = 255
            frame[i, 84 - CELL:, p:p + CELL] = 128
        self.frames = np.concatenate([self.frames[:, 1:], frame[:, None]], axis=1)
        return self.frames.copy()

    def reset(self, *, seed: int | None = None) -> tuple[np.ndarray, dict]:
        self.rng = np.random.default_rng(seed)
        self._start(np.arange(self.num_envs))
        return self._render(), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        self.paddle = np.clip(self.paddle + np.asarray(actions) - 1, 0, GRID - 1)
        self.ball_row += 1
        done = self.ball_row == GRID - 1
        rewards = np.where(done, np.where(self.ball_col == self.paddle, 1.0, -1.0), 0.0)
        self._start(np.flatnonzero(done))
        return self._render(), rewards, done, np.zeros_like(done), {}
