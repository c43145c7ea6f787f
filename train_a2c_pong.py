#!/usr/bin/env python3
"""Advantage Actor-Critic (A2C) on Atari Pong, after *Deep Reinforcement Learning Hands-On*.

One file, read top to bottom: config, environments, network, experience, loss and update,
tracking, checkpoints, play, training loop, main.

    python train_a2c_pong.py --cuda            # train until the 100-game mean exceeds 18
    tensorboard --logdir runs                  # watch it learn
    python train_a2c_pong.py --play runs/<run>/model_best.pt --record pong.gif

Where this program departs from the book's notebook, and why, is listed in README.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import math
import os
import platform
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ENV_ID = "PongNoFrameskip-v4"
ALE_GAME = "pong"
METRIC_NAMES = (
    "advantage", "values", "batch_rewards", "loss_entropy", "loss_policy",
    "loss_value", "loss_total", "grad_l2", "grad_max", "grad_var",
)  # the notebook's TBMeanTracker scalars; RewardTracker adds fps, reward_100 and reward
METRIC_EVERY = 10  # updates averaged into one TensorBoard point (the notebook's TBMeanTracker batch)
STATUS_EVERY_S = 10.0
BEST_SAVE_EVERY_S = 10.0


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class NonFiniteError(Exception):
    """The loss or gradient went NaN/inf: training stops before the weights are touched."""


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Config:
    """Every hyperparameter of the run; defaults are the notebook's (the book's code this follows)."""

    cuda: bool = False
    seed: int = 42
    envs: int = 50
    batch_size: int = 128
    reward_steps: int = 4
    gamma: float = 0.99
    lr: float = 0.001
    adam_eps: float = 0.001
    entropy_beta: float = 0.01
    clip_grad: float = 0.1
    stop_reward: float = 18.0
    max_frames: int | None = None
    name: str = ""
    runs_dir: str = "runs"
    backend: str = "vector"
    baseline: str = "state"
    sticky: float = 0.0
    grad_stats_every: int = 10
    bf16: bool = False
    env_threads: int = 0
    torch_threads: int = 0
    async_envs: bool = False
    save_every: float = 10.0


# Options that change what is learned: a resumed run takes them from its checkpoint.
HYPERPARAMETERS = (
    "seed", "envs", "batch_size", "reward_steps", "gamma", "lr", "adam_eps",
    "entropy_beta", "clip_grad", "stop_reward", "backend", "baseline", "async_envs", "bf16", "sticky",
)


def _checked(convert: Callable[[str], Any], ok: Callable[[Any], bool], what: str) -> Callable[[str], Any]:
    """An argparse type that refuses nonsense (0 envs, NaN lr) with status 2 and one line."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


_positive_int = _checked(int, lambda v: v > 0, "a positive integer")
_non_negative_int = _checked(int, lambda v: v >= 0, "0 or more")
_positive_float = _checked(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
_non_negative_float = _checked(float, lambda v: math.isfinite(v) and v >= 0, "0 or a positive number")
_unit_float = _checked(float, lambda v: 0 <= v <= 1, "a number in [0, 1]")
_finite_float = _checked(float, math.isfinite, "a finite number")


def _run_name(text: str) -> str:
    if text in (".", "..") or "/" in text or os.sep in text or "\0" in text:
        raise argparse.ArgumentTypeError(f"must be a plain name without '/', got {text!r}")
    return text


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in --help, but not "(default: False)" after a switch or "(default: None)"."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if isinstance(action, argparse._StoreTrueAction) or action.default in (None, "", argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The command line; every default comes from Config, i.e. from the notebook."""
    d = Config()
    p = argparse.ArgumentParser(
        description="A2C on Atari Pong, after the A2C chapter of Deep Reinforcement Learning Hands-On "
        "and its notebook. Trains on the CPU unless --cuda is given, until the 100-game mean reward "
        "exceeds --stop-reward. Two other modes: --resume CHECKPOINT continues a stopped run, --play "
        "MODEL watches a saved agent.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--cuda", action="store_true", help="train on the CUDA GPU (exit 2 if none)")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed of numpy, torch and env i (seed+i)")
    p.add_argument("--envs", type=_positive_int, default=d.envs, help="parallel Pong environments")
    p.add_argument("--batch-size", type=_positive_int, default=d.batch_size,
                   help="transitions per gradient update")
    p.add_argument("--reward-steps", type=_positive_int, default=d.reward_steps,
                   help="N of the N-step return")
    p.add_argument("--gamma", type=_unit_float, default=d.gamma, help="discount factor")
    p.add_argument("--lr", type=_positive_float, default=d.lr, help="Adam learning rate")
    p.add_argument("--adam-eps", type=_positive_float, default=d.adam_eps,
                   help="Adam epsilon (the notebook's large value helps convergence)")
    p.add_argument("--entropy-beta", type=_non_negative_float, default=d.entropy_beta,
                   help="weight of the entropy bonus")
    p.add_argument("--clip-grad", type=_positive_float, default=d.clip_grad,
                   help="max L2 norm of the gradient")
    p.add_argument("--stop-reward", type=_finite_float, default=d.stop_reward,
                   help="stop when the mean reward of the last 100 games exceeds this (not before 100 games)")
    p.add_argument("--max-frames", type=_positive_int, default=None,
                   help="stop after this many frames of this invocation (frame: one agent step of one env)")
    p.add_argument("--name", type=_run_name, default=d.name, help="suffix of the run folder's name")
    p.add_argument("--runs-dir", default=d.runs_dir, help="folder that holds one folder per run")
    p.add_argument("--backend", choices=("vector", "ptan"), default=d.backend,
                   help="vector: ale-py's C++ vector env making the notebook's frames; ptan: the "
                   "notebook's experience pipeline on ptan 0.8.1's wrap_dqn frames (see README)")
    p.add_argument("--baseline", choices=("state", "batch-mean"), default=d.baseline,
                   help="policy-gradient baseline: state: V(s) of each sample; batch-mean: the "
                   "notebook's broadcast loss, whose baseline is the batch's mean V")
    p.add_argument("--grad-stats-every", type=_positive_int, default=d.grad_stats_every,
                   help="log grad_l2/max/var from every K-th update, which then takes a second "
                   "backward pass (1: every update, as the notebook)")
    p.add_argument("--bf16", action="store_true",
                   help="forward passes under bfloat16 autocast (CUDA, or a CPU with native bf16); "
                   "losses, gradients and Adam stay float32")
    p.add_argument("--env-threads", type=_non_negative_int, default=d.env_threads,
                   help="threads of the vector env (0: one per core)")
    p.add_argument("--torch-threads", type=_non_negative_int, default=d.torch_threads,
                   help="CPU threads of torch (0: torch's own choice)")
    p.add_argument("--async-envs", action="store_true",
                   help="vector backend: step the envs while the update runs; actions may then come "
                   "from weights one update old, which the notebook never does")
    p.add_argument("--save-every", type=_positive_float, default=d.save_every,
                   help="minutes between periodic checkpoints")
    p.add_argument("--resume", metavar="CHECKPOINT", default=None,
                   help="continue the run that wrote this checkpoint.pt")
    p.add_argument("--play", metavar="MODEL", default=None,
                   help="play Pong with a saved model or checkpoint instead of training")
    p.add_argument("--episodes", type=_positive_int, default=3, help="games to play with --play")
    p.add_argument("--greedy", action="store_true",
                   help="with --play: the most probable action instead of a sampled one")
    p.add_argument("--sticky", type=_unit_float, default=d.sticky, metavar="P",
                   help="sticky actions: each emulator frame repeats the previous action with "
                   "probability P (ALE v5's protocol is 0.25; the notebook's is 0). Training: in every "
                   "env. --play: instead of the value the model was trained with")
    p.add_argument("--record", metavar="FILE.gif", default=None,
                   help="with --play: write the first game as an animated GIF")
    return p


_UNSET = object()


PLAY_ONLY = ("episodes", "record", "greedy")  # options of --play alone
PLAY_TOO = ("cuda", "seed", "backend", "sticky")  # Config fields that --play also takes


def parse_args(argv: Sequence[str] | None) -> tuple[Config, argparse.Namespace, set[str]]:
    """Parse the command line; also return which options the user set explicitly."""
    parser = build_parser()
    ns = parser.parse_args(argv)
    unset = argparse.Namespace(**{k: _UNSET for k in vars(ns)})
    explicit = parser.parse_args(argv, namespace=unset)  # argparse leaves preset attributes be
    given = {k for k, v in vars(explicit).items() if v is not _UNSET}
    fields = {f.name for f in dataclasses.fields(Config)}
    cfg = Config(**{k: v for k, v in vars(ns).items() if k in fields})
    return cfg, ns, given


def check_modes(given: set[str]) -> None:
    """Refuse an option that the chosen mode would ignore: one line, exit status 2."""
    def flag(key: str) -> str:
        return "--" + key.replace("_", "-")

    if "play" in given:
        if "resume" in given:
            raise UsageError("--play and --resume are two modes; give one of them")
        ignored = sorted(given & {f.name for f in dataclasses.fields(Config)} - set(PLAY_TOO))
        if ignored:
            raise UsageError(f"{flag(ignored[0])} is a training option; --play takes only "
                             f"{', '.join(flag(k) for k in (*PLAY_TOO, *PLAY_ONLY))}")
        return
    for key in PLAY_ONLY:
        if key in given:
            raise UsageError(f"{flag(key)} needs --play")


def pick_device(cuda: bool) -> torch.device:
    if cuda and not torch.cuda.is_available():
        raise UsageError("--cuda was given but no CUDA device is available (drop --cuda to use the CPU)")
    return torch.device("cuda" if cuda else "cpu")


def device_line(device: torch.device, cfg: Config) -> str:
    """Where training runs, said once at the start: a CPU run on a GPU box shows at once."""
    if device.type == "cuda":
        return f"training on cuda: {torch.cuda.get_device_name(device)}"
    line = f"training on {device.type}: {torch.get_num_threads()} torch threads"
    if cfg.backend == "vector":
        line += f", {cfg.env_threads or os.cpu_count() or 1} env threads"
    if torch.cuda.is_available():
        line += " (a CUDA GPU is present: add --cuda to train on it)"
    return line


def seed_everything(seed: int) -> None:
    """numpy drives ptan's action sampling, torch the vector backend's and the weights."""
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too


# ---------------------------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------------------------


class VectorEnv(Protocol):
    """What the training loop needs of a batch of environments (ale-py's AtariVectorEnv has it).

    Observations are stacked uint8 frames; an episode that ends in `step` is reset in the same
    step ("SameStep" autoreset), so the returned observation already starts the next episode.
    """

    single_observation_space: gym.spaces.Box
    single_action_space: gym.spaces.Discrete

    def reset(self, *, seed: int | None = None) -> tuple[np.ndarray, dict]: ...

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]: ...

    # send(actions) then recv() is step(actions) split in two; needed only by --async-envs.


def _register_ale() -> None:
    """Register the ALE envs; keep ALE's warnings but not its banner, so errors stay one line."""
    import ale_py

    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Warning)
    gym.register_envs(ale_py)


# How each backend makes its frames. Stored with every model and checkpoint, so that --play
# rebuilds the env a model was trained on, and refuses one whose frames this program no longer makes.
PIPELINES: dict[str, dict[str, Any]] = {
    "vector": {  # ptan 0.7's wrap_dqn, which the notebook ran, from ale-py's vector env (README table)
        "noop_max": 30, "frame_skip": 4, "maxpool": True, "fire_reset": "ale", "episodic_life": True,
        "grayscale": "ale", "resize": [110, 84], "crop_rows": [18, 102], "transpose": True,
        "stack": 4, "stack_fill": "first", "reward_clipping": True, "action_set": "minimal",
        "max_frames_per_episode": 108_000,
    },
    "ptan": {  # ptan 0.8.1's wrap_dqn (stable-baselines3's AtariWrapper) with the notebook's no-ops
        "noop_max": 30, "frame_skip": 4, "maxpool": True, "fire_reset": "sb3", "episodic_life": True,
        "grayscale": "opencv", "resize": [84, 84], "crop_rows": None, "transpose": False,
        "stack": 4, "stack_fill": "zeros", "reward_clipping": True, "action_set": "minimal",
        "max_frames_per_episode": 108_000,
    },
}


def make_pong_env(i: int, seed: int, render_mode: str | None = None, sticky: float = 0.0) -> gym.Env:
    """The notebook's env on today's ptan, seeded once below ptan's frame stack.

    ptan's BufferWrapper.reset drops its `seed`, so we seed the raw ALE env with seed+i before
    wrapping; later resets go unseeded and the emulator's RNG carries on (re-seeding each reset
    would replay one game forever in deterministic Pong).
    """
    import ptan

    _register_ale()
    settings = PIPELINES["ptan"]
    env = gym.make(ENV_ID, render_mode=render_mode, repeat_action_probability=sticky,
                   full_action_space=False, max_num_frames_per_episode=settings["max_frames_per_episode"])
    env.reset(seed=seed + i)
    return ptan.common.wrappers.wrap_dqn(env, noop_max=settings["noop_max"])


def make_vector_env(num_envs: int, threads: int = 0, sticky: float = 0.0, rgb: bool = False) -> VectorEnv:
    """ale-py's C++ vector env making the notebook's frames (SeedFrames), every setting explicit.

    rgb=True gives the raw RGB screens (max-pooled like the frames) instead, for --record: the
    same emulator states, if seeded and stepped alike.
    """
    from ale_py.vector_env import AtariVectorEnv

    _register_ale()
    s = PIPELINES["vector"]
    env = AtariVectorEnv(
        ALE_GAME, num_envs=num_envs, num_threads=threads or (os.cpu_count() or 1),
        repeat_action_probability=sticky, full_action_space=False,
        max_num_frames_per_episode=s["max_frames_per_episode"], noop_max=s["noop_max"],
        episodic_life=s["episodic_life"], reward_clipping=s["reward_clipping"], use_fire_reset=True,
        grayscale=not rgb, img_height=210 if rgb else s["resize"][0],
        img_width=160 if rgb else s["resize"][1],
        stack_num=1 if rgb else s["stack"], frameskip=s["frame_skip"], maxpool=s["maxpool"],
        autoreset_mode="SameStep",
    )
    return env if rgb else SeedFrames(env)


class SeedFrames:
    """ptan 0.7's observations from ale-py's 84-wide, 110-high frames.

    ptan 0.7's ProcessFrame84 kept rows 18:102 (the score band is cut off), its ImageToPyTorch
    swapped axes 2 and 0 of the (84, 84, 1) frame (so the network saw it transposed), and its
    FrameStack filled all four slots with an episode's first frame, where ale-py puts zeros.
    """

    def __init__(self, env: Any) -> None:
        self.env = env
        self.num_envs = env.num_envs
        self.stack = env.single_observation_space.shape[0]
        self.rows = slice(*PIPELINES["vector"]["crop_rows"])
        width = env.single_observation_space.shape[2]
        self.single_observation_space = gym.spaces.Box(0, 255, (self.stack, width, width), np.uint8)
        self.single_action_space = env.single_action_space
        self.age = np.zeros(self.num_envs, dtype=np.int64)  # steps since each env's episode began

    def _frames(self, obs: np.ndarray, started: np.ndarray) -> np.ndarray:
        self.age = np.where(started, 0, self.age + 1)
        out = np.ascontiguousarray(obs[:, :, self.rows, :].transpose(0, 1, 3, 2))
        for age in range(self.stack - 1):  # slots before an episode's first frame hold zeros
            young = self.age == age
            if young.any():
                first = self.stack - 1 - age
                out[young, :first] = out[young, first:first + 1]
        return out

    def reset(self, *, seed: int | None = None) -> tuple[np.ndarray, dict]:
        obs, info = self.env.reset(seed=seed)
        return self._frames(obs, np.ones(self.num_envs, dtype=bool)), info

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        self.env.send(actions)
        return self.recv()

    def send(self, actions: np.ndarray) -> None:
        self.env.send(actions)

    def recv(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        obs, rewards, terminated, truncated, info = self.env.recv()
        return self._frames(obs, np.logical_or(terminated, truncated)), rewards, terminated, truncated, info

    def close(self) -> None:
        self.env.close()


# ---------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------


class AtariA2C(nn.Module):
    """Shared conv base with a policy head (action logits) and a value head (V(s))."""

    def __init__(self, input_shape: tuple[int, ...], n_actions: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(input_shape[0], 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU(),
        )
        with torch.no_grad():
            conv_out = int(np.prod(self.conv(torch.zeros(1, *input_shape)).shape))
        self.policy = nn.Sequential(nn.Linear(conv_out, 512), nn.ReLU(), nn.Linear(512, n_actions))
        self.value = nn.Sequential(nn.Linear(conv_out, 512), nn.ReLU(), nn.Linear(512, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 frames in, (logits [B, n_actions], values [B, 1]) out; scaled by 1/256 as the notebook."""
        conv_out = self.conv(x.float() / 256).flatten(1)
        return self.policy(conv_out), self.value(conv_out)


def place(net: AtariA2C, device: torch.device) -> AtariA2C:
    """Move the net to the device; on the CPU with channels-last conv weights, a faster layout for
    the CPU's convolutions (same values to float rounding: tests/test_network.py; timed by
    tests/bench_throughput.py, not yet on a GPU)."""
    net = net.to(device)
    return net.to(memory_format=torch.channels_last) if device.type == "cpu" else net


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager:
    """bfloat16 autocast around forward passes with --bf16; nothing otherwise."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def check_bf16(device: torch.device) -> None:
    """--bf16 only where the hardware computes in bfloat16; elsewhere it would only be slower."""
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UsageError("--bf16: this GPU has no bfloat16 support; drop --bf16")
    if device.type == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        raise UsageError("--bf16: this CPU has no native bfloat16 (AVX512-BF16 or AMX), where it "
                         "would run slower than float32; drop --bf16")


def net_shape(state_dict: dict[str, torch.Tensor]) -> tuple[tuple[int, int, int], int]:
    """(input_shape, n_actions) of an AtariA2C state dict, so that a saved model plays unaided."""
    try:
        channels = state_dict["conv.0.weight"].shape[1]
        n_actions = state_dict["policy.2.weight"].shape[0]
    except (KeyError, AttributeError, IndexError) as e:
        raise UsageError(f"not an AtariA2C state dict (missing {e})") from None
    return (int(channels), 84, 84), int(n_actions)


# ---------------------------------------------------------------------------------------------
# Experience
# ---------------------------------------------------------------------------------------------


def _experience_first_last() -> type:
    from ptan.experience import ExperienceFirstLast

    return ExperienceFirstLast


class VectorExperienceSource:
    """N-step (first, last) transitions from a VectorEnv, item for item what ptan yields.

    Replaces ptan's VectorExperienceSourceFirstLast, which is one step long and joins episodes.
    Like ptan.experience.ExperienceSourceFirstLast over a list of envs it walks the envs in
    order each step, yields a full window (N rewards, last_state N steps on) per env, and at an
    episode's end the shorter tail windows with last_state None.
    """

    def __init__(self, env: VectorEnv, act: Callable[[np.ndarray], np.ndarray],
                 gamma: float, steps_count: int, seed: int | None = None, overlap: bool = False) -> None:
        self.env, self.act, self.gamma, self.steps, self.seed = env, act, gamma, steps_count, seed
        self.overlap = overlap
        self.total_rewards: list[float] = []
        self._item = _experience_first_last()

    def _emit(self, window: Sequence[tuple[np.ndarray, int, float]], last_state: np.ndarray | None) -> Any:
        total = 0.0
        for _, _, r in reversed(window):
            total = total * self.gamma + r
        return self._item(state=window[0][0], action=window[0][1], reward=total, last_state=last_state)

    def _step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """The next observations and the chosen next actions; with overlap, sent before we return.

        Without overlap (the notebook's order) the next actions are chosen after this step's items
        are consumed, so with the weights of any update they caused. With overlap they are
        chosen and sent now, and the envs step while the caller trains on this step's items.
        """
        if not self.overlap:
            next_obs, rewards, terminated, truncated, _ = self.env.step(actions)
            return next_obs, rewards, np.logical_or(terminated, truncated), None
        next_obs, rewards, terminated, truncated, _ = self.env.recv()
        next_actions = self.act(next_obs)
        self.env.send(next_actions)
        return next_obs, rewards, np.logical_or(terminated, truncated), next_actions

    def __iter__(self) -> Iterator[Any]:
        obs, _ = self.env.reset(seed=self.seed)
        n = len(obs)
        histories = [collections.deque(maxlen=self.steps + 1) for _ in range(n)]
        episode_rewards = [0.0] * n
        actions = self.act(obs)
        if self.overlap:
            self.env.send(actions)
        while True:
            next_obs, rewards, done, next_actions = self._step(actions)
            done = done.tolist()
            rewards = np.asarray(rewards, dtype=np.float64).tolist()
            taken = np.asarray(actions).tolist()
            for i in range(n):
                history = histories[i]
                history.append((obs[i], taken[i], rewards[i]))
                episode_rewards[i] += rewards[i]
                if len(history) == self.steps + 1:
                    yield self._emit(list(history)[:-1], last_state=history[-1][0])
                if done[i]:
                    if len(history) <= self.steps:
                        yield self._emit(history, last_state=None)
                    while len(history) > 1:
                        history.popleft()
                        yield self._emit(history, last_state=None)
                    history.clear()
                    self.total_rewards.append(episode_rewards[i])
                    episode_rewards[i] = 0.0
            obs = next_obs
            actions = next_actions if self.overlap else self.act(obs)

    def pop_total_rewards(self) -> list[float]:
        rewards, self.total_rewards = self.total_rewards, []
        return rewards


def unpack_batch(batch: Sequence[Any], net: AtariA2C, gamma: float, reward_steps: int,
                 device: str | torch.device = "cpu",
                 bf16: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """States (uint8), actions and N-step targets Q(s,a) = sum gamma^i r_i + gamma^N V(s_N).

    V(s_N) is added only where the episode did not end inside the window. Frames travel to the
    device once, as uint8; the targets are formed there.
    """
    states = torch.from_numpy(np.stack([np.asarray(e.state) for e in batch])).to(device)
    actions = torch.tensor([int(e.action) for e in batch], dtype=torch.long, device=device)
    targets = torch.tensor([float(e.reward) for e in batch], dtype=torch.float32, device=device)
    not_done = [i for i, e in enumerate(batch) if e.last_state is not None]
    if not_done:
        last = torch.from_numpy(np.stack([np.asarray(batch[i].last_state) for i in not_done])).to(device)
        with torch.no_grad(), autocast(torch.device(device), bf16):
            _, last_values = net(last)
        idx = torch.tensor(not_done, dtype=torch.long, device=device)
        targets[idx] += last_values[:, 0].float() * (gamma ** reward_steps)
    return states, actions, targets


def policy_sampler(net: AtariA2C, device: torch.device, bf16: bool = False,
                   greedy: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """Actions sampled on the device from softmax(logits) (or its arg-max), one host copy per step."""

    @torch.inference_mode()
    def act(obs: np.ndarray) -> np.ndarray:
        with autocast(device, bf16):
            logits, _ = net(torch.from_numpy(np.asarray(obs)).to(device))
        if greedy:
            return logits.argmax(dim=1).cpu().numpy()
        return torch.multinomial(F.softmax(logits.float(), dim=1), 1)[:, 0].cpu().numpy()

    return act


# ---------------------------------------------------------------------------------------------
# Loss and update
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Losses:
    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    advantage: torch.Tensor
    values: torch.Tensor


def a2c_losses(net: AtariA2C, states: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor,
               entropy_beta: float, baseline: str = "state", bf16: bool = False) -> Losses:
    """The notebook's three loss terms, in float32 whatever the forward pass ran in.

    baseline "state" subtracts each sample's own V(s). "batch-mean" is the notebook's line
    `advantage = target_values - values.detach()` as written: values [B, 1] against targets [B]
    broadcast to [B, B], so each sample's baseline is the batch's mean value (README, departure 4).
    """
    with autocast(states.device, bf16):
        logits, values = net(states)
    logits, values = logits.float(), values.float()
    value_loss = F.mse_loss(values.squeeze(-1), targets)
    log_probs = F.log_softmax(logits, dim=1)
    taken = log_probs[torch.arange(len(actions), device=actions.device), actions]
    advantage = targets - (values.squeeze(-1) if baseline == "state" else values).detach()
    policy_loss = -(advantage * taken).mean()
    entropy_loss = entropy_beta * (F.softmax(logits, dim=1) * log_probs).sum(dim=1).mean()
    return Losses(policy_loss, value_loss, entropy_loss, advantage, values.detach().squeeze(-1))


def grad_stats(net: nn.Module) -> torch.Tensor:
    """[grad_l2, grad_max, grad_var] over every parameter, as the notebook's torch 1.x saw them.

    There zero_grad() left zeros, so after the policy loss's backward pass the value head's
    gradients were zeros, not None, and entered the statistics; torch 2 sets them to None.
    """
    grads = torch.cat([p.grad.flatten() if p.grad is not None else torch.zeros_like(p).flatten()
                       for p in net.parameters()])
    return torch.stack([grads.square().mean().sqrt(), grads.abs().max(), grads.var(correction=0)])


def a2c_update(net: AtariA2C, optimizer: torch.optim.Optimizer, states: torch.Tensor,
               actions: torch.Tensor, targets: torch.Tensor, cfg: Config,
               with_grad_stats: bool = True) -> torch.Tensor:
    """One update; returns the notebook's ten metrics as one device tensor (order of METRIC_NAMES).

    The step needs one backward pass of the total loss. Only with_grad_stats does it take the
    notebook's two, the policy loss first (retain_graph), for the policy gradient's statistics;
    otherwise those three metrics are NaN and MetricBuffer leaves them out. The one host sync
    checks the gradient norm before the step, so a NaN never reaches the weights.
    """
    optimizer.zero_grad()
    losses = a2c_losses(net, states, actions, targets, cfg.entropy_beta, cfg.baseline, cfg.bf16)
    rest = losses.entropy + losses.value
    if with_grad_stats:
        losses.policy.backward(retain_graph=True)
        stats = grad_stats(net)
        rest.backward()
    else:
        (losses.policy + rest).backward()
        stats = torch.full((3,), float("nan"), device=states.device)
    norm = nn.utils.clip_grad_norm_(net.parameters(), cfg.clip_grad)
    if not torch.isfinite(norm):
        raise NonFiniteError("the loss or its gradient is not finite (NaN or inf)")
    optimizer.step()
    return torch.cat([
        torch.stack([losses.advantage.mean(), losses.values.mean(), targets.mean(),
                     losses.entropy.detach(), losses.policy.detach(), losses.value.detach(),
                     (rest + losses.policy).detach()]),
        stats,
    ])


# ---------------------------------------------------------------------------------------------
# Tracking
# ---------------------------------------------------------------------------------------------


class RewardTracker:
    """Episode rewards, their 100-episode mean, and the stop decision (fps, reward_100, reward).

    Unlike the notebook, every episode that ends in a step is recorded, not only the first, and the
    run is solved only by a full window: the notebook's "mean of the last 100" over its first few
    games let one lucky game stop a run with a low --stop-reward.
    """

    def __init__(self, writer: Any, stop_reward: float, window_size: int = 100) -> None:
        self.writer, self.stop_reward = writer, stop_reward
        self.rewards: collections.deque[float] = collections.deque(maxlen=window_size)
        self.episodes = 0
        self.best_mean_reward = float("-inf")
        self.new_best = False
        self._ts, self._ts_frame = time.time(), 0

    @property
    def mean_reward(self) -> float:
        return float(np.mean(self.rewards)) if self.rewards else float("nan")

    def restore(self, episodes: int, best_mean_reward: float, rewards: Sequence[float], frame: int) -> None:
        """Continue a resumed run's count, best mean and window from where it was saved."""
        self.episodes, self.best_mean_reward, self._ts_frame = episodes, best_mean_reward, frame
        self.rewards.clear()
        self.rewards.extend(rewards)

    def add_rewards(self, rewards: Sequence[float], frame: int) -> bool:
        """Record each episode that ended at `frame`; True once a full window's mean > stop_reward.

        fps is measured once per call, so episodes that end together share one honest figure
        (per episode, the second would show 0 frames in no time)."""
        if not rewards:
            return False
        now = time.time()
        fps = (frame - self._ts_frame) / max(now - self._ts, 1e-9)
        self._ts, self._ts_frame = now, frame
        solved = False
        for reward in rewards:
            solved = self._record(reward, frame, fps) or solved
        return solved

    def _record(self, reward: float, frame: int, fps: float) -> bool:
        self.rewards.append(float(reward))
        self.episodes += 1
        mean = self.mean_reward
        if mean > self.best_mean_reward:
            self.best_mean_reward = mean
            self.new_best = True
            print(f"{frame}: done {self.episodes} games, mean reward {mean:.3f}, speed {fps:.2f} fps",
                  flush=True)
        self.writer.add_scalar("fps", fps, frame)
        self.writer.add_scalar("reward_100", mean, frame)
        self.writer.add_scalar("reward", reward, frame)
        return len(self.rewards) == self.rewards.maxlen and mean > self.stop_reward


class MetricBuffer:
    """The notebook's TBMeanTracker(batch_size=10), kept on the device: one host copy per 10 updates.

    A metric that is NaN in some updates (grad_* between --grad-stats-every samples) is the mean
    of the updates that have it."""

    def __init__(self, writer: Any, every: int = METRIC_EVERY) -> None:
        self.writer, self.every = writer, every
        self._pending: list[torch.Tensor] = []

    def add(self, metrics: torch.Tensor, frame: int) -> None:
        self._pending.append(metrics)
        if len(self._pending) >= self.every:
            self.flush(frame)

    def flush(self, frame: int) -> None:
        """Write the mean of the updates held back; at the end, so that a stop loses none."""
        if not self._pending:
            return
        means = torch.stack(self._pending).nanmean(dim=0).tolist()
        self._pending.clear()
        for name, value in zip(METRIC_NAMES, means, strict=True):
            if not math.isnan(value):  # grad_* of a group without a --grad-stats-every sample
                self.writer.add_scalar(name, value, frame)


@dataclasses.dataclass
class Timings:
    """Wall seconds by phase, for the benchmark: env stepping is what the others leave."""

    total: float = 0.0
    inference: float = 0.0
    update: float = 0.0

    def timed(self, fn: Callable[..., Any], field: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, field, getattr(self, field) + time.perf_counter() - start)

        return wrapper


class StatusLine:
    """A progress line at least every STATUS_EVERY_S seconds."""

    def __init__(self, start_frame: int) -> None:
        self.start = self.last = time.time()
        self.start_frame = start_frame

    def maybe_print(self, frame: int, tracker: RewardTracker, force: bool = False) -> None:
        now = time.time()
        if not force and now - self.last < STATUS_EVERY_S:
            return
        self.last = now
        elapsed = now - self.start
        fps = (frame - self.start_frame) / max(elapsed, 1e-9)
        mean = f"{tracker.mean_reward:.2f}" if tracker.rewards else "-"
        print(f"[status] frames {frame:,} | fps {fps:,.0f} | episodes {tracker.episodes} | "
              f"mean reward {mean} | elapsed {_hms(elapsed)}", flush=True)


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename: never a torn file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):  # name the file we meant, not the temporary one
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise


def on_cpu(obj: Any) -> Any:
    """A copy of a (nested) state dict with every tensor on the CPU, so that a model trained on a
    GPU loads with a plain torch.load(..., weights_only=True) on a machine without one."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return type(obj)((k, on_cpu(v)) for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return type(obj)(on_cpu(v) for v in obj)
    return obj


def load_file(path: str | Path) -> Any:
    """torch.load with weights_only=True; every failure becomes one UsageError line."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{p}: is a folder, not a model or checkpoint file")
    if not p.is_file():
        raise UsageError(f"{p}: no such file")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a bad file
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"{p}: not a readable PyTorch file ({reason[:160]})") from None


def load_model(path: str | Path, backend: str | None = None) -> tuple[AtariA2C, dict[str, Any]]:
    """A model file or checkpoint as a float32 AtariA2C (float16 weights are widened) and the
    pipeline it was trained on; `backend`, if the user named one, must be that pipeline's."""
    data = load_file(path)
    settings = data.get("pipeline") if isinstance(data, dict) else None
    if not isinstance(settings, dict) or settings.get("backend") not in PIPELINES:
        raise UsageError(f"{path}: holds no pipeline settings (not saved by this program, or by a "
                         "version before they were stored), so its frames cannot be rebuilt")
    if backend is not None and backend != settings["backend"]:
        raise UsageError(f"{path}: was trained with --backend {settings['backend']}, not {backend}")
    # Files saved before --sticky existed for training hold no such key: they trained without.
    settings = {**settings, "repeat_action_probability": settings.get("repeat_action_probability", 0.0)}
    if settings != pipeline(settings["backend"], settings["repeat_action_probability"]):
        raise UsageError(f"{path}: was trained on frames this version of the program does not make "
                         f"({settings})")
    data = data.get("model")
    if not isinstance(data, dict):
        raise UsageError(f"{path}: holds a {type(data).__name__}, not a model state dict")
    input_shape, n_actions = net_shape(data)
    net = AtariA2C(input_shape, n_actions)
    try:
        net.load_state_dict(data)
    except RuntimeError as e:
        raise UsageError(f"{path}: does not fit AtariA2C ({str(e).splitlines()[0][:160]})") from None
    return net, settings


def versions() -> dict[str, str]:
    """Plain strings (torch.__version__ is a TorchVersion, which weights_only loading refuses)."""
    import ale_py

    found = {"python": platform.python_version(), "torch": torch.__version__,
             "numpy": np.__version__, "gymnasium": gym.__version__, "ale_py": ale_py.__version__}
    return {k: str(v) for k, v in found.items()}


def finite_params(net: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in net.parameters())


# ---------------------------------------------------------------------------------------------
# Play
# ---------------------------------------------------------------------------------------------


class PlayEnv:
    """One env of a model's training pipeline, one game after another, for --play.

    The vector backend starts each game itself (same-step reset, with its random no-ops); its
    RGB screens for --record come from a twin env with the same seed and actions, hence the
    same emulator states. The ptan backend is reset per game and renders its own screen.
    """

    def __init__(self, backend: str, seed: int, sticky: float, record: bool) -> None:
        self.backend = backend
        self.rgb = None
        if backend == "vector":
            self.env = make_vector_env(1, 1, sticky)
            self.obs = self.env.reset(seed=seed)[0]
            if record:
                self.rgb = make_vector_env(1, 1, sticky, rgb=True)
                self.screen = self.rgb.reset(seed=seed)[0][0, 0]
        else:
            self.env = make_pong_env(0, seed, render_mode="rgb_array" if record else None, sticky=sticky)

    @property
    def shape(self) -> tuple[tuple[int, ...], int]:
        if self.backend == "vector":
            return self.env.single_observation_space.shape, int(self.env.single_action_space.n)
        return self.env.observation_space.shape, int(self.env.action_space.n)

    def start(self) -> np.ndarray:
        """The first observation of a new game, as a batch of one."""
        if self.backend == "ptan":
            self.obs = self.env.reset()[0][None]
        return self.obs

    def render(self) -> np.ndarray:
        return self.screen if self.rgb is not None else self.env.render()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        if self.backend == "ptan":
            obs, reward, terminated, truncated, _ = self.env.step(action)
            self.obs = obs[None]
            return self.obs, float(reward), terminated or truncated
        actions = np.array([action])
        self.obs, reward, terminated, truncated, _ = self.env.step(actions)
        if self.rgb is not None:
            self.screen = self.rgb.step(actions)[0][0, 0]
        return self.obs, float(reward[0]), bool(terminated[0] or truncated[0])


def play(model_path: str, episodes: int, record: str | None, device: torch.device, seed: int,
         greedy: bool = False, sticky: float | None = None, backend: str | None = None) -> str | None:
    """Play full games with a saved model on the pipeline it was trained on; optionally a GIF.

    Actions are sampled from the policy as in training (or its arg-max with greedy); each game
    starts with the pipeline's random no-ops. Returns the name of the signal that stopped it
    early, if one did; the games finished by then are still reported (and recorded, if the
    first one finished)."""
    if record is not None and Path(record).suffix.lower() != ".gif":
        raise UsageError(f"--record {record}: only .gif is supported (written with Pillow)")
    net, settings = load_model(model_path, backend)
    net = net.to(device)
    trained_sticky = settings["repeat_action_probability"]
    sticky = trained_sticky if sticky is None else sticky
    env = PlayEnv(settings["backend"], seed, sticky, record is not None)
    if net_shape(net.state_dict()) != env.shape:
        raise UsageError(f"{model_path}: model shape does not fit {ENV_ID}")
    seed_everything(seed)
    act = policy_sampler(net, device, greedy=greedy)
    scores, frames = [], []
    with StopFlag("stopping the game") as stop:
        for game in range(episodes):
            obs = env.start()
            score, done = 0.0, False
            while not done and not stop.signal:
                if record and game == 0:
                    frames.append(env.render())
                obs, reward, done = env.step(int(act(obs)[0]))
                score += reward
            if stop.signal:
                break
            scores.append(score)
            print(f"game {game + 1}: score {score:+.0f}", flush=True)
    if scores:
        wins = sum(score > 0 for score in scores)
        how = "as trained" if sticky == trained_sticky else f"trained with {trained_sticky:g}"
        print(f"mean score over {len(scores)} games: {np.mean(scores):+.2f}, won {wins} "
              f"(sticky actions {sticky:g}, {how})", flush=True)
    if record and scores:
        from PIL import Image

        images = [Image.fromarray(f) for f in frames]
        images[0].save(record, save_all=True, append_images=images[1:], duration=67, loop=0)
        print(f"wrote {len(images)} frames to {record}", flush=True)
    return stop.signal


# ---------------------------------------------------------------------------------------------
# Training loop
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class TrainResult:
    run_dir: Path
    frames: int
    episodes: int
    best_mean_reward: float
    mean_reward: float
    solved: bool
    stopped_by: str | None  # "SIGINT" / "SIGTERM" when a signal ended the run
    seconds: float
    timings: Timings


class StopFlag:
    """SIGINT/SIGTERM ask the loop to stop after the step in hand; a second signal kills."""

    def __init__(self, doing: str = "finishing the update in hand and saving a checkpoint") -> None:
        self.signal: str | None = None
        self.doing = doing
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        self.signal = signal.Signals(signum).name
        signal.signal(signum, self._old[signum])
        print(f"\n{self.signal} received: {self.doing} (send it again to quit at once)", flush=True)

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def new_run_dir(cfg: Config) -> Path:
    """A fresh folder per run: runs/<date>_<host>-pong-a2c[-name][-k]."""
    stem = f"{datetime.now():%Y%m%d-%H%M%S}_{socket.gethostname()}-pong-a2c"
    stem += f"-{cfg.name}" if cfg.name else ""
    root = Path(cfg.runs_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for k in range(1000):
            path = root / (stem if k == 0 else f"{stem}-{k}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as e:
        raise UsageError(f"--runs-dir {root}: cannot create a run folder there ({e.strerror})") from None
    raise UsageError(f"--runs-dir {root}: could not create a new run folder")


def _hparams_text(cfg: Config) -> str:
    rows = "\n".join(f"|{k}|{v}|" for k, v in dataclasses.asdict(cfg).items())
    return f"|param|value|\n|-|-|\n{rows}"


def build_pipeline(cfg: Config, device: torch.device, env: VectorEnv | None = None,
                   timings: Timings | None = None, env_seed: int | None = None) -> tuple[AtariA2C, Any]:
    """The network and the experience source of the chosen backend (or of `env`, if given).

    Env i is seeded with env_seed + i (default: the run's seed)."""
    timings = timings or Timings()
    env_seed = cfg.seed if env_seed is None else env_seed
    if cfg.async_envs and cfg.backend == "ptan":
        raise UsageError("--async-envs works with --backend vector only (ptan's source steps its own envs)")
    if env is None and cfg.backend == "ptan":
        import ptan

        envs = [make_pong_env(i, env_seed, sticky=cfg.sticky) for i in range(cfg.envs)]
        net = place(AtariA2C(envs[0].observation_space.shape, envs[0].action_space.n), device)

        def logits(x: torch.Tensor) -> torch.Tensor:
            with autocast(device, cfg.bf16):
                return net(x)[0].float()

        agent = ptan.agent.PolicyAgent(model=logits, apply_softmax=True, device=device)
        agent.model = timings.timed(agent.model, "inference")
        return net, ptan.experience.ExperienceSourceFirstLast(envs, agent, gamma=cfg.gamma,
                                                              steps_count=cfg.reward_steps)
    env = env if env is not None else make_vector_env(cfg.envs, cfg.env_threads, cfg.sticky)
    if cfg.async_envs and not hasattr(env, "send"):
        raise UsageError("--async-envs needs an environment with send/recv (ale-py's vector env)")
    net = place(AtariA2C(env.single_observation_space.shape, env.single_action_space.n), device)
    act = timings.timed(policy_sampler(net, device, cfg.bf16), "inference")
    return net, VectorExperienceSource(env, act, cfg.gamma, cfg.reward_steps, seed=env_seed,
                                       overlap=cfg.async_envs)


def train(cfg: Config, env: VectorEnv | None = None, resume: dict | None = None,
          run_dir: Path | None = None) -> TrainResult:
    """Train until solved, --max-frames, or a signal. `env` lets tests train on other tasks."""
    from tensorboardX import SummaryWriter

    device = pick_device(cfg.cuda)
    if cfg.bf16:
        check_bf16(device)
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    print(device_line(device, cfg), flush=True)
    seed_everything(cfg.seed)
    timings = Timings()
    # A resumed run is segment k of its run: its envs take seeds no earlier segment took, and
    # numpy's and torch's streams go on from the checkpoint, so no segment replays another.
    segment = int(resume.get("segment", 0)) + 1 if resume is not None else 0

    net, exp_source = build_pipeline(cfg, device, env, timings, env_seed=cfg.seed + segment * cfg.envs)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    history = restore(resume, net, optimizer) if resume is not None else None  # before any write
    if resume is not None and "rng" in resume:
        set_rng_state(resume["rng"])
    run_dir = run_dir or new_run_dir(cfg)
    writer = SummaryWriter(logdir=str(run_dir))
    tracker = RewardTracker(writer, stop_reward=cfg.stop_reward)
    frame = 0
    if history is not None:
        tracker.restore(*history)
        frame = history.frame
        print(f"resumed {run_dir} at frame {frame:,}, {tracker.episodes} episodes", flush=True)
    else:
        writer.add_text("hyperparameters", _hparams_text(cfg))
        (run_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
        print(net, flush=True)
        print(f"run folder: {run_dir}", flush=True)
    first_frame = frame
    update = timings.timed(a2c_update, "update")
    updates = 0
    metrics = MetricBuffer(writer)
    status = StatusLine(frame)
    best_snapshot: tuple[dict[str, torch.Tensor], int] | None = None  # on the device until written
    last_best_save = float("-inf")
    last_checkpoint = time.time()
    batch: list[Any] = []
    solved = False
    start = time.perf_counter()

    def checkpoint() -> Path:
        path = run_dir / "checkpoint.pt"
        ckpt = make_checkpoint(cfg, net, optimizer, tracker, frame, segment)
        atomic_save(ckpt, path)
        atomic_save(model_file(cfg, ckpt["model"], frame), run_dir / "model_last.pt")  # same host copy
        return path

    def save_best(force: bool) -> None:
        nonlocal best_snapshot, last_best_save
        if best_snapshot is not None and (force or time.time() - last_best_save >= BEST_SAVE_EVERY_S):
            weights, at_frame = best_snapshot
            atomic_save(model_file(cfg, on_cpu(weights), at_frame), run_dir / "model_best.pt")
            best_snapshot, last_best_save = None, time.time()

    def save_or_warn(save: Callable[[], Any]) -> None:
        """A save that fails mid-run (a full disk, say) costs a warning, not the run."""
        try:
            save()
        except OSError as e:
            print(f"warning: could not write {e.filename} ({e.strerror}); training goes on, "
                  "the previous file is intact", file=sys.stderr, flush=True)

    try:
        with StopFlag() as stop:
            for exp in exp_source:
                batch.append(exp)
                frame += 1
                solved = tracker.add_rewards(exp_source.pop_total_rewards(), frame)
                if tracker.new_best:
                    tracker.new_best = False
                    best_snapshot = {k: v.detach().clone() for k, v in net.state_dict().items()}, frame
                    save_or_warn(lambda: save_best(force=False))
                if solved:
                    print(f"Solved in {frame} frames!", flush=True)
                    break
                if stop.signal or (cfg.max_frames is not None and frame - first_frame >= cfg.max_frames):
                    break
                status.maybe_print(frame, tracker)
                if len(batch) < cfg.batch_size:
                    continue
                states, actions, targets = timings.timed(unpack_batch, "update")(
                    batch, net, cfg.gamma, cfg.reward_steps, device, cfg.bf16)
                batch.clear()
                sample = updates % cfg.grad_stats_every == 0
                metrics.add(update(net, optimizer, states, actions, targets, cfg, sample), frame)
                updates += 1
                if time.time() - last_checkpoint >= cfg.save_every * 60:
                    save_or_warn(checkpoint)
                    last_checkpoint = time.time()
            timings.total = time.perf_counter() - start
            metrics.flush(frame)
            status.maybe_print(frame, tracker, force=True)
            save_best(force=True)
            path = checkpoint()
            print(f"checkpoint: {path}", flush=True)
            stopped_by = stop.signal
    finally:
        writer.close()
    return TrainResult(run_dir, frame, tracker.episodes, tracker.best_mean_reward, tracker.mean_reward,
                       solved, stopped_by, timings.total, timings)


def pipeline(backend: str, sticky: float = 0.0) -> dict[str, Any]:
    """The backend, every setting of the frames it trains on (see PIPELINES) and its sticky actions."""
    return {"backend": backend, **PIPELINES[backend], "repeat_action_probability": sticky}


def model_file(cfg: Config, weights: dict[str, torch.Tensor], frame: int) -> dict:
    """What model_best.pt and model_last.pt hold: host weights and what --play needs to rebuild
    the training env, plus when they were saved."""
    return {"model": weights, "pipeline": pipeline(cfg.backend, cfg.sticky), "frame": frame,
            "date": datetime.now().isoformat(timespec="seconds"), "config": dataclasses.asdict(cfg)}


def rng_state() -> dict[str, Any]:
    """numpy's and torch's random states, as tensors and numbers that weights_only loading takes."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                      "has_gauss": int(has_gauss), "gauss": float(gauss)},
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_state(state: dict[str, Any]) -> None:
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def make_checkpoint(cfg: Config, net: AtariA2C, optimizer: torch.optim.Optimizer,
                    tracker: RewardTracker, frame: int, segment: int = 0) -> dict:
    """Everything --resume needs, plus how the run was made."""
    if not finite_params(net):
        raise NonFiniteError("refusing to save non-finite weights")
    return {
        "model": on_cpu(net.state_dict()), "optimizer": on_cpu(optimizer.state_dict()), "frame": frame,
        "episodes": tracker.episodes, "best_mean_reward": tracker.best_mean_reward,
        "rewards": list(tracker.rewards), "config": dataclasses.asdict(cfg), "versions": versions(),
        "pipeline": pipeline(cfg.backend, cfg.sticky), "segment": segment, "rng": rng_state(),
    }


class History(NamedTuple):
    """What RewardTracker.restore takes from a checkpoint."""

    episodes: int
    best_mean_reward: float
    rewards: list[float]
    frame: int


def restore(ckpt: dict, net: AtariA2C, optimizer: torch.optim.Optimizer) -> History:
    """Put a checkpoint's model and Adam state back and read its reward history; a misfit is
    one line, raised before the run writes anything."""
    try:
        net.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise UsageError(f"checkpoint does not fit this network ({str(e).splitlines()[0][:160]})") from None
    try:
        optimizer.load_state_dict(ckpt["optimizer"])
        return History(int(ckpt["episodes"]), float(ckpt["best_mean_reward"]),
                       [float(r) for r in ckpt["rewards"]], int(ckpt["frame"]))
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"checkpoint is damaged ({type(e).__name__}: {str(e)[:160]})") from None


def load_checkpoint(path: str) -> dict:
    """A training checkpoint with every key --resume needs, or one UsageError line."""
    ckpt = load_file(path)
    needed = ("model", "optimizer", "frame", "episodes", "best_mean_reward", "rewards", "config")
    missing = [k for k in needed if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise UsageError(f"{path}: not a training checkpoint (missing {', '.join(missing)})")
    return ckpt


def resume_config(cfg: Config, given: set[str], ckpt: dict, path: str) -> Config:
    """The checkpoint's hyperparameters; a flag that contradicts them is refused."""
    saved = ckpt["config"]
    for key in HYPERPARAMETERS:
        if key in given and key in saved and getattr(cfg, key) != saved[key]:
            flag = "--" + key.replace("_", "-")
            raise UsageError(f"{path}: was trained with {flag} {saved[key]}, not {getattr(cfg, key)}; "
                             "a resumed run keeps its checkpoint's hyperparameters")
    merged = {**dataclasses.asdict(cfg), **{k: saved[k] for k in HYPERPARAMETERS if k in saved}}
    merged["name"] = saved.get("name", "")
    return Config(**merged)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

EXIT_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}


def main(argv: Sequence[str] | None = None) -> int:
    cfg, ns, given = parse_args(argv)
    try:
        check_modes(given)
        if ns.play is not None:
            stopped_by = play(ns.play, ns.episodes, ns.record, pick_device(cfg.cuda), cfg.seed, ns.greedy,
                              cfg.sticky if "sticky" in given else None,
                              cfg.backend if "backend" in given else None)
            return EXIT_SIGNAL[stopped_by] if stopped_by else 0
        resume, run_dir = None, None
        if ns.resume is not None:
            resume = load_checkpoint(ns.resume)
            cfg = resume_config(cfg, given, resume, ns.resume)
            run_dir = Path(ns.resume).parent
        result = train(cfg, resume=resume, run_dir=run_dir)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except NonFiniteError as e:
        print(f"error: {e}; training stopped, the files on disk are the last good ones", file=sys.stderr)
        return 3
    except KeyboardInterrupt:  # before the training or play loop took the signal: nothing to save
        print("interrupted", file=sys.stderr)
        return EXIT_SIGNAL["SIGINT"]
    except OSError as e:
        where = f"could not write {e.filename} ({e.strerror})" if e.filename else str(e)
        print(f"error: {where}; files written before are intact", file=sys.stderr)
        return 1
    if result.stopped_by:
        return EXIT_SIGNAL[result.stopped_by]
    return 0


if __name__ == "__main__":
    sys.exit(main())
