#!/usr/bin/env python3
"""Advantage Actor-Critic (A2C) on Atari Pong, after the A2C chapter of *Deep Reinforcement
Learning Hands-On* and its notebook.

Read it beside the notebook: first the method in the notebook's order (the hyperparameters,
`AtariA2C`, `unpack_batch`, the loss and the update, `train`), then, below one rule, the
plumbing it calls. Where the program departs from the notebook, and why: README.md.

    python train_a2c_pong.py --cuda            # train until the 100-game mean exceeds 18
    tensorboard --logdir runs                  # watch it learn
    python train_a2c_pong.py --play docs/pong_a2c_sticky.pt   # trained with sticky actions
"""

from __future__ import annotations

import argparse
import collections
import copy
import csv
import dataclasses
import errno
import importlib
import io
import json
import math
import os
import platform
import secrets
import shlex
import shutil
import signal
import socket
import sys
import threading
import time
import typing
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

# Ctrl-C while the packages load (torch takes seconds): main()'s line and status, not a traceback;
# only where SIGINT has Python's handler (a background job ignores it), which main() gets back.
_LOADING = __name__ == "__main__" and signal.getsignal(signal.SIGINT) is signal.default_int_handler
if _LOADING:
    signal.signal(signal.SIGINT, lambda *_: (print("interrupted", file=sys.stderr), os._exit(130)))

try:
    import gymnasium as gym
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ModuleNotFoundError as e:  # a Python without the packages (a fresh shell outside .venv, say)
    if __name__ != "__main__":
        raise
    print(f"error: {e.name} is not installed for {sys.executable}: run the script with the Python of "
          "make setup (.venv/bin/python), or pip install -r requirements.txt", file=sys.stderr)
    sys.exit(2)

# =============================================================================================
# The method, in the notebook's order
# =============================================================================================

# The notebook's hyperparameters (its first cell): the defaults of Config's flags (--gamma, --lr, ...).
GAMMA = 0.99  # discount factor
LEARNING_RATE = 0.001  # Adam learning rate
ADAM_EPS = 1e-3  # Adam epsilon (the notebook's large value helps convergence)
ENTROPY_BETA = 0.01  # weight of the entropy bonus
BATCH_SIZE = 128  # transitions per gradient update
NUM_ENVS = 50  # parallel Pong environments
REWARD_STEPS = 4  # N of the N-step return
CLIP_GRAD = 0.1  # max L2 norm of the gradient
STOP_REWARD = 18.0  # training stops when the mean reward of the last 100 games exceeds it
SEED = 42  # random seed of numpy, torch and the envs


Heads = tuple[torch.Tensor | None, torch.Tensor | None]  # (logits, values), a head left out is None


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

    def forward(self, x: torch.Tensor, policy: bool = True, value: bool = True) -> Heads:
        """uint8 frames in, scaled by 1/256 as the notebook; a head left out (policy/value=False) is None."""
        conv_out = self.conv(x.to(self.policy[0].weight.dtype) / 256).flatten(1)
        return self.policy(conv_out) if policy else None, self.value(conv_out) if value else None


def stacked(frames: Sequence[Any], device: str | torch.device) -> torch.Tensor:
    """A batch of uint8 frames on the device; the vector source's frames are there already."""
    if isinstance(frames[0], torch.Tensor):
        return torch.stack(frames).to(device)
    return torch.from_numpy(np.stack([np.asarray(f) for f in frames])).to(device)


def unpack_batch(batch: Sequence[Any], net: AtariA2C, gamma: float, reward_steps: int,
                 device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """States, actions and N-step targets: sum gamma^i r_i, plus gamma^N V(s_N) where the game went on."""
    states = stacked([e.state for e in batch], device)
    actions = torch.tensor([int(e.action) for e in batch], dtype=torch.long, device=device)
    targets = torch.tensor([float(e.reward) for e in batch], dtype=torch.float32, device=device)
    not_done = [i for i, e in enumerate(batch) if e.last_state is not None]
    if not_done:
        last = stacked([batch[i].last_state for i in not_done], device)
        with torch.no_grad():
            _, last_values = net(last, policy=False)
        idx = torch.tensor(not_done, dtype=torch.long, device=device)
        targets[idx] += last_values[:, 0] * (gamma ** reward_steps)
    return states, actions, targets


Losses = collections.namedtuple("Losses", "policy value entropy advantage values")


def a2c_losses(net: AtariA2C, states: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor,
               entropy_beta: float, baseline: str = "state") -> Losses:
    """The notebook's three loss terms. baseline "batch-mean" keeps the notebook's broadcasting
    `advantage = target_values - values.detach()`; "state" is each sample's V(s) (README, departure 4)."""
    logits, values = net(states)
    value_loss = F.mse_loss(values.squeeze(-1), targets)
    log_probs = F.log_softmax(logits, dim=1)
    taken = log_probs[torch.arange(len(actions), device=actions.device), actions]
    advantage = targets - (values.squeeze(-1) if baseline == "state" else values).detach()
    policy_loss = -(advantage * taken).mean()
    entropy_loss = entropy_beta * (F.softmax(logits, dim=1) * log_probs).sum(dim=1).mean()
    return Losses(policy_loss, value_loss, entropy_loss, advantage, values.detach().squeeze(-1))


def grad_stats(net: nn.Module) -> dict[str, torch.Tensor]:
    """A missing gradient counted as zeros, as the notebook's torch 1.x did (README, departure 13)."""
    grads = torch.cat([p.grad.flatten() if p.grad is not None else torch.zeros_like(p).flatten()
                       for p in net.parameters()])
    return {"grad_l2": grads.square().mean().sqrt(), "grad_max": grads.abs().max(),
            "grad_var": grads.var(correction=0)}


def a2c_update(net: AtariA2C, optimizer: torch.optim.Optimizer, states: torch.Tensor,
               actions: torch.Tensor, targets: torch.Tensor, cfg: Config,
               with_grad_stats: bool = True) -> dict[str, torch.Tensor]:
    """One update; the notebook's metrics as tensors on the device. with_grad_stats: its two backward
    passes (else NaN: README, departure 8). One host sync keeps NaN off the weights."""
    optimizer.zero_grad()
    losses = a2c_losses(net, states, actions, targets, cfg.entropy_beta, cfg.baseline)
    rest = losses.entropy + losses.value
    if with_grad_stats:
        losses.policy.backward(retain_graph=True)
        stats = grad_stats(net)
        rest.backward()
    else:
        (losses.policy + rest).backward()
        nan = torch.full((), math.nan, device=states.device)
        stats = dict.fromkeys(("grad_l2", "grad_max", "grad_var"), nan)
    norm = nn.utils.clip_grad_norm_(net.parameters(), cfg.clip_grad)
    if not torch.isfinite(norm):
        raise NonFiniteError("the loss or its gradient is not finite (NaN or inf)")
    optimizer.step()
    return {"advantage": losses.advantage.mean(), "values": losses.values.mean(),
            "batch_rewards": targets.mean(), "loss_entropy": losses.entropy.detach(),
            "loss_policy": losses.policy.detach(), "loss_value": losses.value.detach(),
            "loss_total": (rest + losses.policy).detach(), **stats}


def train(cfg: Config, env: VectorEnv | Sequence[gym.Env] | None = None, resume: dict | None = None,
          run_dir: Path | None = None) -> TrainResult:
    """The notebook's training cell; `env` trains on another task (tools/catch_env.py)."""
    device = pick_device(cfg.cuda)
    prepare(cfg, device)
    run = Run(cfg, resume, run_dir)
    net, exp_source, compile_seconds = net_and_source(cfg, device, env, run.env_seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    with run.start(net, optimizer, compile_seconds):
        batch = []
        for exp in exp_source:
            batch.append(exp)
            solved = run.record_games(exp_source.pop_total_rewards())  # a frame on; the games it ended
            if solved or run.should_stop():
                break
            if len(batch) < cfg.batch_size:
                continue
            states, actions, targets = unpack_batch(batch, net, cfg.gamma, cfg.reward_steps, device)
            metrics = a2c_update(net, optimizer, states, actions, targets, cfg, run.grad_stats_due())
            batch.clear()
            run.track(metrics)
    return run.result()


# =============================================================================================
# Plumbing: devices, environments and frames, the experience source, checkpoints and model
# files, tracking, play and record, the command line. Each section uses only those above it.
# =============================================================================================

# --- Settings: every flag of the program, its default, help and check ------------------------

TRAIN, PLAY, RESUME = "train", "play", "resume"  # the program's modes
POSITIVE = ("a positive number", lambda v: 0 < v < math.inf)
NON_NEGATIVE = ("0 or more", lambda v: 0 <= v < math.inf)
FRACTION = ("a number in [0, 1]", lambda v: 0 <= v <= 1)
FINITE = ("a finite number", math.isfinite)
SEED_RANGE = ("an integer in [0, 2**32 - 1]", lambda v: 0 <= v < 2**32)
A_PATH = ("a non-empty path", bool)  # '' would mean the current folder
PLAIN_NAME = ("a plain name without '/'", lambda v: v not in (".", "..") and not {"/", os.sep, "\0"} & set(v))


LOCKED, KEPT, REFUSED = "locked", "kept", "refused"  # what --resume does with a setting


def setting(default: Any, help: str, check: tuple[str, Callable[[Any], bool]] | None = None,
            modes: tuple[str, ...] = (TRAIN,), on_resume: str | None = None, shown: str | None = None,
            **flag: Any) -> Any:
    """A Config field and its flag. on_resume: LOCKED (shapes what is learned: a flag against the
    checkpoint's is refused), KEPT (the checkpoint's unless given), REFUSED, None (this invocation's)."""
    meta = {"help": help, "check": check, "modes": modes, "on_resume": on_resume, "shown": shown,
            "flag": flag}
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass
class Config:
    """Every setting of the program, and so its command line."""

    gamma: float = setting(GAMMA, "discount factor", FRACTION, on_resume=LOCKED)
    lr: float = setting(LEARNING_RATE, "Adam learning rate", POSITIVE, on_resume=LOCKED)
    adam_eps: float = setting(ADAM_EPS, "Adam epsilon (the notebook's large value helps convergence)",
                              POSITIVE, on_resume=LOCKED)
    entropy_beta: float = setting(ENTROPY_BETA, "weight of the entropy bonus", NON_NEGATIVE, on_resume=LOCKED)
    batch_size: int = setting(BATCH_SIZE, "transitions per gradient update", POSITIVE, on_resume=LOCKED)
    envs: int = setting(NUM_ENVS, "parallel Pong environments", POSITIVE, on_resume=LOCKED)
    reward_steps: int = setting(REWARD_STEPS, "N of the N-step return", POSITIVE, on_resume=LOCKED)
    clip_grad: float = setting(CLIP_GRAD, "max L2 norm of the gradient", POSITIVE, on_resume=LOCKED)
    stop_reward: float = setting(STOP_REWARD, "stop when the mean reward of the last 100 games exceeds this "
                                 "(not before 100 games)", FINITE, on_resume=KEPT)
    seed: int = setting(SEED, "random seed of numpy and torch; env i takes seed + i, and in a run's k-th "
                        "resumed segment seed + k*envs + i", SEED_RANGE,
                        modes=(TRAIN, PLAY), on_resume=LOCKED)
    cuda: bool = setting(False, "train or play on the CUDA GPU (exit 2 if there is none)",
                         modes=(TRAIN, PLAY))
    backend: str = setting("vector", "vector: ale-py's vector env making the notebook's frames; ptan: the "
                           "notebook's experience pipeline on ptan 0.8.1's frames", modes=(TRAIN, PLAY),
                           on_resume=LOCKED, choices=("vector", "ptan"))
    sticky: float = setting(0.0, "sticky actions: each emulator frame repeats the last action with "
                            "probability P (ALE v5: 0.25; the notebook: 0)", FRACTION, modes=(TRAIN, PLAY),
                            on_resume=LOCKED, shown="0.0 to train; --play: the model's", metavar="P")
    baseline: str = setting("state", "policy-gradient baseline: state: each sample's own V(s), as A2C "
                            "defines it; batch-mean: the notebook's broadcast loss (README)",
                            on_resume=LOCKED, choices=("state", "batch-mean"))
    max_frames: int | None = setting(None, "stop after this many frames (agent steps of one env) of this "
                                     "invocation", POSITIVE)
    name: str = setting("", "suffix of the run folder's name", PLAIN_NAME, on_resume=REFUSED)
    runs_dir: str = setting("runs", "folder that holds one folder per run", A_PATH, on_resume=REFUSED)
    save_every: float = setting(10.0, "minutes between periodic checkpoints", POSITIVE, on_resume=KEPT)
    grad_stats_every: int = setting(10, "log grad_l2/max/var from every K-th update, which then takes a "
                                    "second backward pass (1: every update, as the notebook)", POSITIVE)
    bf16: bool = setting(False, "bfloat16 forward passes (CUDA, or a CPU with native bf16); losses, "
                         "gradients and Adam stay float32", on_resume=KEPT,
                         action=argparse.BooleanOptionalAction)
    compile: bool = setting(False, "torch.compile the network (a C++ compiler, Python.h); its time counts",
                            modes=(TRAIN, PLAY), on_resume=KEPT, action=argparse.BooleanOptionalAction)
    async_envs: bool = setting(False, "vector backend: step the envs while the update runs; actions may "
                               "then come from weights one update old", on_resume=KEPT,
                               action=argparse.BooleanOptionalAction)
    env_threads: int = setting(0, "threads of the vector env (0: one per usable core)", NON_NEGATIVE)
    torch_threads: int = setting(0, "CPU threads of torch (0: torch's choice to train, 1 to play)",
                                 NON_NEGATIVE, modes=(TRAIN, PLAY))
    resume: str | None = setting(None, "continue the run that wrote this checkpoint.pt", A_PATH,
                                 modes=(RESUME,), metavar="CHECKPOINT")
    play: str | None = setting(None, "play Pong with a saved model or checkpoint", A_PATH, modes=(PLAY,),
                               metavar="MODEL")
    episodes: int = setting(3, "games to play", POSITIVE, modes=(PLAY,))
    greedy: bool = setting(False, "the most probable action instead of a sampled one", modes=(PLAY,))
    record: str | None = setting(None, "write the first game as an animated GIF", A_PATH, modes=(PLAY,),
                                 metavar="FILE.gif")


ENV_ID = "PongNoFrameskip-v4"
ALE_GAME = "pong"


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class NonFiniteError(Exception):
    """The loss or gradient went NaN/inf: training stops before the weights are touched."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# --- Devices and seeds -----------------------------------------------------------------------


def pick_device(cuda: bool) -> torch.device:
    if cuda and not torch.cuda.is_available():
        raise UsageError("--cuda was given but no CUDA device is available (drop --cuda to use the CPU)")
    return torch.device("cuda" if cuda else "cpu")


def cores() -> int:
    """The cores this process may use (under taskset or in a container), not all the machine's."""
    if hasattr(os, "sched_getaffinity"):  # not on macOS
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def torch_threads() -> str:
    """Said with a warning where they outnumber the usable cores: torch's threads then wait on each other."""
    n, usable = torch.get_num_threads(), cores()
    over = f" (more than the {usable} cores this process may use: slower)" if n > usable else ""
    return f"{n} torch thread{'s' * (n != 1)}{over}"


NO_BF16 = "drop --bf16 (a resumed --bf16 run: add --no-bf16)"


def cpu_has_bf16() -> bool:
    """AVX512-BF16 or AMX: a private op, as torch has no public test of it."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def check_bf16(device: torch.device) -> None:
    """--bf16 only where the hardware computes in bfloat16; elsewhere it is only slower."""
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise UsageError(f"--bf16: this GPU has no bfloat16 support; {NO_BF16}")
    if device.type == "cpu" and not cpu_has_bf16():
        raise UsageError("--bf16: this CPU has no native bfloat16 (AVX512-BF16 or AMX), where it "
                         f"would run slower than float32; {NO_BF16}")


def seed_everything(seed: int) -> None:
    """numpy drives ptan's action sampling, torch the vector backend's and the weights."""
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too


def prepare(cfg: Config, device: torch.device) -> None:
    """Say where training runs, so that a CPU run on a GPU box shows at once."""
    if cfg.bf16:
        check_bf16(device)
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    else:
        where = torch_threads()
        where += f", {cfg.env_threads or cores()} env threads" if cfg.backend == "vector" else ""
        where += " (a CUDA GPU is present: add --cuda to train on it)" if torch.cuda.is_available() else ""
    print(f"training on {device.type}: {where}", flush=True)
    seed_everything(cfg.seed)


def as_float32(heads: Heads) -> Heads:
    return tuple(None if h is None else h.float() for h in heads)


def place(net: AtariA2C, device: torch.device, bf16: bool = False) -> AtariA2C:
    """The net on the device, channels-last on the CPU; with bf16 under autocast, returning float32."""
    net = net.to(device)
    if device.type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    if bf16:
        forward = net.forward

        def bf16_forward(x: torch.Tensor, policy: bool = True, value: bool = True) -> Heads:
            with torch.autocast(device.type, dtype=torch.bfloat16):
                return as_float32(forward(x, policy, value))

        net.forward = bf16_forward
    return net


class Bf16Copy:
    """--bf16's acting net: `net`'s weights cast once per update (a gradient hook marks it stale)."""

    def __init__(self, net: AtariA2C) -> None:
        self.net = net
        self.copy = copy.deepcopy(net).to(torch.bfloat16).requires_grad_(False)
        vars(self.copy).pop("forward", None)  # the class's forward, not place()'s autocast wrapper
        self.stale, self.casts = True, 0
        for p in net.parameters():
            p.register_post_accumulate_grad_hook(self._updated)

    def _updated(self, _param: torch.Tensor) -> None:
        self.stale = True

    def __call__(self, x: torch.Tensor, policy: bool = True, value: bool = True) -> Heads:
        if self.stale:
            with torch.no_grad():
                for mine, theirs in zip(self.copy.parameters(), self.net.parameters(), strict=True):
                    mine.copy_(theirs)
            self.stale, self.casts = False, self.casts + 1
        return as_float32(self.copy(x, policy, value))


NO_COMPILE = "drop --compile (a resumed --compile run: add --no-compile)"


def compile_net(net: AtariA2C, acting: Callable[..., Heads], device: torch.device, envs: int,
                batch_size: int | None = None) -> float:
    """torch.compile the net (and --bf16's copy) now, on zero frames, so that its seconds are said first."""
    import torch._functorch.config

    # The grad-stats update backs its graph up twice, which donated buffers forbid; a private,
    # process-wide switch, as torch.compile offers no public one.
    torch._functorch.config.donated_buffer = False
    start = time.perf_counter()
    shape = (net.conv[0].in_channels, 84, 84)
    for module in [net] if acting is net else [net, acting.copy]:
        module.compile()
    with warnings.catch_warnings(action="ignore"):  # inductor's ("Can't find Python.h"): one line says it
        try:
            with torch.inference_mode():
                acting(torch.zeros(envs, *shape, dtype=torch.uint8, device=device), value=False)
            if batch_size is not None:
                states = torch.zeros(batch_size, *shape, dtype=torch.uint8, device=device)
                for n in (batch_size, 2, 1):  # unpack_batch's last states: as many as did not end
                    last = states[:n].clone()
                    if n > 1:
                        torch._dynamo.mark_dynamic(last, 0)
                    with torch.no_grad():
                        net(last, policy=False)
                logits, values = net(states)
                (logits.sum() + values.sum()).backward()
                net.zero_grad(set_to_none=True)
        except Exception as e:  # no compiler or Python.h, an unsupported platform: inductor's many errors
            why = (str(e).strip().splitlines() or [type(e).__name__])[0]  # no Python.h: "C++ compile error"
            raise UsageError(f"--compile: torch.compile cannot run here ({why}; it needs a C++ compiler and "
                             f"Python's headers); {NO_COMPILE}") from None
    seconds = time.perf_counter() - start
    print(f"compiled the network in {seconds:.1f} s (torch.compile, counted in the run's time)", flush=True)
    return seconds


# --- Environments and frames -----------------------------------------------------------------


# What training needs of a batch of envs, as ale-py's AtariVectorEnv: reset, step with "SameStep"
# autoreset on stacked uint8 frames, and for --async-envs send(actions) then recv().
VectorEnv = Any


def _register_ale() -> None:
    """ALE's envs, its warnings but not its banner, so that errors stay one line."""
    import ale_py

    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Warning)
    gym.register_envs(ale_py)


# How each backend makes its frames, stored with every model and checkpoint: --play plays a model only
# on frames this program makes. The vector builder reads each setting; ptan's entry says what it does.
PIPELINES: dict[str, dict[str, Any]] = {
    "vector": {  # ptan 0.7's wrap_dqn, which the notebook ran, from ale-py's vector env (docs/reference.md)
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


def pipeline(backend: str, sticky: float = 0.0) -> dict[str, Any]:
    return {"backend": backend, **PIPELINES[backend], "repeat_action_probability": sticky}


def make_pong_env(i: int, seed: int, render_mode: str | None = None, sticky: float = 0.0) -> gym.Env:
    """The notebook's env on today's ptan, whose BufferWrapper.reset drops its `seed`: the raw env takes
    seed + i before wrapping; later resets go unseeded (re-seeding would replay one game forever)."""
    import ptan

    _register_ale()
    s = PIPELINES["ptan"]
    env = gym.make(ENV_ID, render_mode=render_mode, repeat_action_probability=sticky,
                   full_action_space=s["action_set"] == "full",
                   max_num_frames_per_episode=s["max_frames_per_episode"])
    env.reset(seed=seed + i)
    return ptan.common.wrappers.wrap_dqn(env, stack_frames=s["stack"], episodic_life=s["episodic_life"],
                                         clip_reward=s["reward_clipping"], noop_max=s["noop_max"])


def make_vector_env(num_envs: int, threads: int = 0, sticky: float = 0.0, rgb: bool = False) -> VectorEnv:
    """ale-py's vector env making the notebook's frames; rgb=True: its RGB screens, for --record."""
    from ale_py.vector_env import AtariVectorEnv

    _register_ale()
    s = PIPELINES["vector"]
    env = AtariVectorEnv(
        ALE_GAME, num_envs=num_envs, num_threads=threads or cores(),
        repeat_action_probability=sticky, full_action_space=s["action_set"] == "full",
        max_num_frames_per_episode=s["max_frames_per_episode"], noop_max=s["noop_max"],
        episodic_life=s["episodic_life"], reward_clipping=s["reward_clipping"],
        use_fire_reset=s["fire_reset"] == "ale", grayscale=not rgb, img_height=210 if rgb else s["resize"][0],
        img_width=160 if rgb else s["resize"][1], stack_num=1, frameskip=s["frame_skip"],
        maxpool=s["maxpool"], autoreset_mode="SameStep",
    )
    return env if rgb else NotebookFrames(env, s)


class NotebookFrames:
    """The notebook's frames (ptan 0.7's) from ale-py's newest 110x84 frame: rows 18:102, axes 2 and 0
    swapped (the network saw them transposed), stacked four deep here, a game's first frame in every
    slot before it, where ale-py's own stack puts zeros; a frame is cut and turned once, not four times."""

    def __init__(self, env: Any, frames: dict[str, Any]) -> None:
        self.env = env
        self.num_envs = env.num_envs
        height, width = env.single_observation_space.shape[1:]
        self.rows = slice(*frames["crop_rows"]) if frames["crop_rows"] is not None else slice(None)
        self.transpose, self.fill_first = frames["transpose"], frames["stack_fill"] == "first"
        shape = (len(range(height)[self.rows]), width)[::-1 if self.transpose else 1]
        self.single_observation_space = gym.spaces.Box(0, 255, (frames["stack"], *shape), np.uint8)
        self.single_action_space = env.single_action_space
        self.stacks = np.zeros((self.num_envs, frames["stack"], *shape), np.uint8)

    def _frames(self, obs: np.ndarray, started: np.ndarray) -> np.ndarray:
        """A fresh array each step: the experience source keeps the earlier ones."""
        newest = obs[:, -1, self.rows, :]
        out = np.empty_like(self.stacks)
        out[:, :-1] = self.stacks[:, 1:]
        out[:, -1] = newest.transpose(0, 2, 1) if self.transpose else newest
        out[started, :-1] = out[started, -1:] if self.fill_first else 0
        self.stacks = out
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


# --- The experience source -------------------------------------------------------------------


class VectorExperienceSource:
    """N-step transitions from a VectorEnv, item for item ptan's ExperienceSourceFirstLast over a list
    of envs (ptan's VectorExperienceSourceFirstLast is one step long and joins episodes). With a
    device, frames cross to it once, for acting and for unpack_batch; else they stay on the host."""

    def __init__(self, env: VectorEnv, act: Callable[[Any], np.ndarray], gamma: float, steps_count: int,
                 seed: int | None = None, overlap: bool = False, device: torch.device | None = None) -> None:
        self.env, self.act, self.gamma, self.steps, self.seed = env, act, gamma, steps_count, seed
        self.overlap, self.device = overlap, device
        self.total_rewards: list[float] = []
        from ptan.experience import ExperienceFirstLast

        self._item = ExperienceFirstLast

    def _emit(self, window: Sequence[tuple[np.ndarray, int, float]], last_state: np.ndarray | None) -> Any:
        total = 0.0
        for _, _, r in reversed(window):
            total = total * self.gamma + r
        return self._item(state=window[0][0], action=window[0][1], reward=total, last_state=last_state)

    def _frames(self, obs: np.ndarray) -> Any:
        """Made in inference mode, as policy_sampler makes its input (a compiled net sees one kind)."""
        if self.device is None:
            return obs
        with torch.inference_mode():
            return torch.as_tensor(obs, device=self.device)

    def _step(self, actions: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray | None]:
        """With overlap the next actions are sent now, so the envs step while the caller trains."""
        if not self.overlap:
            next_obs, rewards, terminated, truncated, _ = self.env.step(actions)
            return self._frames(next_obs), rewards, np.logical_or(terminated, truncated), None
        next_obs, rewards, terminated, truncated, _ = self.env.recv()
        next_obs = self._frames(next_obs)
        next_actions = self.act(next_obs)
        self.env.send(next_actions)
        return next_obs, rewards, np.logical_or(terminated, truncated), next_actions

    def __iter__(self) -> Iterator[Any]:
        obs, _ = self.env.reset(seed=self.seed)
        obs = self._frames(obs)
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
            taken, frames = np.asarray(actions).tolist(), list(obs)  # list: one call for a tensor's rows
            for i in range(n):
                history = histories[i]
                history.append((frames[i], taken[i], rewards[i]))
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


def policy_sampler(net: Callable[..., Heads], device: torch.device,
                   greedy: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """Actions sampled on the device from softmax(logits) (or its arg-max), one host copy per step."""

    @torch.inference_mode()
    def act(obs: np.ndarray | torch.Tensor) -> np.ndarray:
        logits, _ = net(torch.as_tensor(obs, device=device), value=False)
        if greedy:
            return logits.argmax(dim=1).cpu().numpy()
        return torch.multinomial(F.softmax(logits, dim=1), 1)[:, 0].cpu().numpy()

    return act


def placed(net: AtariA2C, cfg: Config, device: torch.device) -> tuple[AtariA2C, Callable[..., Heads], float]:
    net = place(net, device, cfg.bf16)
    acting = Bf16Copy(net) if cfg.bf16 else net
    return net, acting, compile_net(net, acting, device, cfg.envs, cfg.batch_size) if cfg.compile else 0.0


def net_and_source(cfg: Config, device: torch.device, env: VectorEnv | Sequence[gym.Env] | None = None,
                   env_seed: int | None = None) -> tuple[AtariA2C, Any, float]:
    """The network, the backend's experience source on Pong (env i seeded env_seed + i) or on `env`."""
    env_seed = cfg.seed if env_seed is None else env_seed
    if cfg.backend == "ptan":
        if cfg.async_envs:
            raise UsageError("--async-envs works with --backend vector only (ptan's source steps its own "
                             "envs)")
        env = list(env) if env is not None else [make_pong_env(i, env_seed, sticky=cfg.sticky)
                                                 for i in range(cfg.envs)]
        space = env[0].observation_space.shape, env[0].action_space.n
    else:
        env = env if env is not None else make_vector_env(cfg.envs, cfg.env_threads, cfg.sticky)
        if cfg.async_envs and not hasattr(env, "send"):
            raise UsageError("--async-envs needs an environment with send/recv (ale-py's vector env)")
        space = env.single_observation_space.shape, env.single_action_space.n
    try:
        net, acting, seconds = placed(AtariA2C(*space), cfg, device)
    except UsageError:  # torch may keep a failed compile's frames to the end, and ale-py
        del env  # reports envs alive then as leaked, many lines under the one of the error
        raise
    if cfg.backend == "ptan":
        import ptan

        agent = ptan.agent.PolicyAgent(model=lambda x: acting(x, value=False)[0], apply_softmax=True,
                                       device=device)
        return net, ptan.experience.ExperienceSourceFirstLast(env, agent, gamma=cfg.gamma,
                                                              steps_count=cfg.reward_steps), seconds
    source = VectorExperienceSource(env, policy_sampler(acting, device), cfg.gamma, cfg.reward_steps,
                                    seed=env_seed, overlap=cfg.async_envs, device=device)
    return net, source, seconds


# --- Checkpoints and model files -------------------------------------------------------------

HYPERPARAMETERS = tuple(f.name for f in dataclasses.fields(Config) if f.metadata["on_resume"] == LOCKED)
PER_SEGMENT = tuple(f.name for f in dataclasses.fields(Config) if f.metadata["on_resume"] == KEPT)
CHANGING = tuple(f.name for f in dataclasses.fields(Config)  # what a run's segments may change
                 if TRAIN in f.metadata["modes"] and f.metadata["on_resume"] not in (LOCKED, REFUSED))


def saved_config(cfg: Config) -> dict[str, Any]:
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(Config) if TRAIN in f.metadata["modes"]}


def atomic_write(path: Path, write: Callable[[typing.BinaryIO], Any]) -> None:
    """Write a temporary file, then rename: never a torn file; mode 0o666 less the umask, unread."""
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):  # name the file we meant, not the temporary one
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise


def cannot_write_in(folder: Path) -> str | None:
    """Why no file can be made in folder, or None: a file made and removed, where os.access lets root
    pass in folders that take no file (/proc, say)."""
    probe = folder / f".probe.{secrets.token_hex(8)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as e:
        return e.strerror
    return None


def atomic_save(obj: Any, path: Path) -> None:
    """Serialized in memory first: torch.save's writer turns a full disk's OSError into a RuntimeError."""
    data = io.BytesIO()
    torch.save(obj, data)
    atomic_write(path, lambda f: f.write(data.getbuffer()))


def write_json(obj: Any, path: Path) -> None:
    atomic_write(path, lambda f: f.write((json.dumps(obj, indent=2) + "\n").encode()))


def on_cpu(obj: Any) -> Any:
    """A model trained on a GPU loads on a machine without one."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return type(obj)((k, on_cpu(v)) for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return type(obj)(on_cpu(v) for v in obj)
    return obj


def load_file(path: str | Path) -> Any:
    """torch.load with weights_only=True; every failure one UsageError line."""
    p = Path(path)
    if p.is_dir():
        if (p / "config.json").is_file():  # a run folder, which --play does not take
            raise UsageError(f"{p}: is a run folder; its agent is {p / 'model_best.pt'}")
        raise UsageError(f"{p}: is a folder, not a model or checkpoint file")
    if not p.is_file():
        if (p.parent / "config.json").is_file():  # a run folder, early in its run
            raise UsageError(f"{p}: no such file yet (a run writes model_best.pt when its first game "
                             "ends, checkpoint.pt at its first checkpoint)")
        raise UsageError(f"{p}: no such file")
    try:
        with p.open("rb") as f:
            head = f.read(4)
    except OSError as e:
        raise UsageError(f"{p}: cannot be read ({e.strerror})") from None
    if head != b"PK\x03\x04" and head[:1] != b"\x80":  # a zip archive (torch.save), or a legacy pickle
        raise UsageError(f"{p}: not a model or checkpoint file (not a file torch.save wrote)")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds (OSError, RuntimeError, ...) for a bad file
        if "weights_only" in str(e):
            raise UsageError(f"{p}: holds Python objects that this program does not load (not saved "
                             "by it)") from None
        raise UsageError(f"{p}: damaged or cut short: torch cannot read it (a copy or download "
                         "that did not finish?)") from None


def net_shape(state_dict: dict[str, torch.Tensor]) -> tuple[tuple[int, int, int], int]:
    """(input_shape, n_actions) of an AtariA2C state dict: a saved model plays unaided."""
    try:
        channels = state_dict["conv.0.weight"].shape[1]
        n_actions = state_dict["policy.2.weight"].shape[0]
    except (KeyError, AttributeError, IndexError) as e:
        raise UsageError(f"not an AtariA2C state dict (missing {e})") from None
    return (int(channels), 84, 84), int(n_actions)


def load_model(path: str | Path, backend: str | None = None) -> tuple[AtariA2C, dict[str, Any]]:
    data = load_file(path)
    settings = data.get("pipeline") if isinstance(data, dict) else None
    if not isinstance(settings, dict) or settings.get("backend") not in PIPELINES:
        raise UsageError(f"{path}: holds no pipeline settings (not saved by this program, or by a "
                         "version before they were stored), so its frames cannot be rebuilt")
    if backend is not None and backend != settings["backend"]:
        raise UsageError(f"{path}: was trained with --backend {settings['backend']}, not {backend}")
    # Files saved before --sticky existed for training hold no such key: they trained without.
    settings = {"repeat_action_probability": 0.0, **settings}
    made = pipeline(settings["backend"], settings["repeat_action_probability"])
    differ = sorted(k for k in made.keys() | settings.keys() if made.get(k) != settings.get(k))
    if differ:
        raise UsageError(f"{path}: was trained on frames this version of the program does not make "
                         f"({', '.join(f'{k} {settings.get(k)!r}' for k in differ)})")
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
    """Plain strings: torch.__version__ is a TorchVersion, which weights_only loading refuses."""
    import ale_py

    found = {"python": platform.python_version(), "torch": torch.__version__,
             "numpy": np.__version__, "gymnasium": gym.__version__, "ale_py": ale_py.__version__}
    return {k: str(v) for k, v in found.items()}


def model_file(weights: dict[str, torch.Tensor], frame: int, settings: dict[str, Any], config: dict[str, Any],
               date: str | None = None, **provenance: Any) -> dict:
    """A model file: weights, the pipeline --play rebuilds, config, frame, date and `provenance`."""
    return {"model": weights, "pipeline": settings, "frame": frame,
            "date": date or datetime.now().isoformat(timespec="seconds"), "config": config, **provenance}


def rng_state() -> dict[str, Any]:
    """As tensors and numbers, which weights_only loading takes."""
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


def restore(ckpt: dict, net: AtariA2C, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """A checkpoint's model, Adam state and reward record; a misfit is one line."""
    try:
        net.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise UsageError(f"checkpoint does not fit this network ({str(e).splitlines()[0][:160]})") from None
    try:
        optimizer.load_state_dict(ckpt["optimizer"])
        return {"episodes": int(ckpt["episodes"]), "best_mean_reward": float(ckpt["best_mean_reward"]),
                "rewards": [float(r) for r in ckpt["rewards"]], "frame": int(ckpt["frame"])}
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"checkpoint is damaged ({type(e).__name__}: {str(e)[:160]})") from None


def load_checkpoint(path: str) -> dict:
    ckpt = load_file(path)
    needed = ("model", "optimizer", "frame", "episodes", "best_mean_reward", "rewards", "config")
    missing = [k for k in needed if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        if isinstance(ckpt, dict) and "model" in ckpt and "pipeline" in ckpt:
            raise UsageError(f"{path}: is a model file, which --play takes; --resume takes a run's "
                             "checkpoint.pt")
        raise UsageError(f"{path}: not a training checkpoint (missing {', '.join(missing)})")
    return ckpt


def checkpoint_path(path: str) -> str:
    folder = Path(path)
    if folder.is_dir() and (folder / "config.json").is_file():
        return str(folder / "checkpoint.pt")
    return path


def resume_config(cfg: Config, given: set[str], ckpt: dict, path: str) -> Config:
    """The checkpoint's hyperparameters (a flag against them refused), its KEPT settings unless given."""
    saved = ckpt["config"]
    for key in HYPERPARAMETERS:
        if key in given and key in saved and getattr(cfg, key) != saved[key]:
            raise UsageError(f"{path}: was trained with {_flag(key)} {saved[key]}, not {getattr(cfg, key)}; "
                             "a resumed run keeps its checkpoint's hyperparameters")
    kept = [k for k in HYPERPARAMETERS + PER_SEGMENT if k in saved and k not in given]
    merged = {**dataclasses.asdict(cfg), **{k: saved[k] for k in kept}, "name": saved.get("name", "")}
    return Config(**merged)


# --- Tracking: rewards, metrics, status, signals, and the Run that train() calls -------------

METRIC_EVERY = 10  # updates averaged into one TensorBoard point (the notebook's TBMeanTracker batch)
STATUS_EVERY_S = 10.0
FPS_WINDOW_S = 10.0  # the shortest interval the fps scalar is measured over
BEST_SAVE_EVERY_S = 10.0
OUTLOOK_FIRST_S, OUTLOOK_EVERY_S = 60.0, 300.0  # when the status says what the seeds we ran expect
SEEDS_TABLE = Path(__file__).resolve().parent / "docs" / "seeds.csv"  # tools/seeds.py writes it


def solves(rewards: Sequence[float], stop_reward: float, window: int = 100) -> bool:
    """The stop rule: a full window of the last games, whose mean is above stop_reward."""
    return len(rewards) >= window and float(np.mean(list(rewards)[-window:])) > stop_reward


class RewardTracker:
    """The notebook's RewardTracker, recording every game that ends in a step (README, departures 3, 11)."""

    def __init__(self, writer: Any, stop_reward: float, window_size: int = 100) -> None:
        self.writer, self.stop_reward = writer, stop_reward
        self.rewards: collections.deque[float] = collections.deque(maxlen=window_size)
        self.episodes = 0
        self.best_mean_reward = float("-inf")
        self.new_best = False
        self._marks = collections.deque([(time.time(), 0)])  # (time, frame) at each call, for fps

    @property
    def mean_reward(self) -> float:
        return float(np.mean(self.rewards)) if self.rewards else float("nan")

    def restore(self, episodes: int, best_mean_reward: float, rewards: Sequence[float], frame: int) -> None:
        self.episodes, self.best_mean_reward = episodes, best_mean_reward
        self._marks = collections.deque([(time.time(), frame)])
        self.rewards.clear()
        self.rewards.extend(rewards)

    def history(self, frame: int) -> dict[str, Any]:
        return {"episodes": self.episodes, "best_mean_reward": self.best_mean_reward,
                "rewards": list(self.rewards), "frame": frame}

    def add_rewards(self, rewards: Sequence[float], frame: int) -> bool:
        """True once solved. fps spans FPS_WINDOW_S: games of several envs end microseconds apart."""
        if not rewards:
            return False
        now = time.time()
        while len(self._marks) > 1 and now - self._marks[1][0] >= FPS_WINDOW_S:
            self._marks.popleft()
        start, start_frame = self._marks[0]
        fps = (frame - start_frame) / max(now - start, 1e-9)
        self._marks.append((now, frame))
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
        return solves(self.rewards, self.stop_reward, window=self.rewards.maxlen)


class MetricBuffer:
    """The notebook's TBMeanTracker(batch_size=10), on the device: one host copy per 10 updates."""

    def __init__(self, writer: Any, every: int = METRIC_EVERY) -> None:
        self.writer, self.every = writer, every
        self._pending: list[dict[str, torch.Tensor]] = []

    def add(self, metrics: dict[str, torch.Tensor], frame: int) -> None:
        self._pending.append(metrics)
        if len(self._pending) >= self.every:
            self.flush(frame)

    def flush(self, frame: int) -> None:
        if not self._pending:
            return
        names = list(self._pending[0])
        rows = torch.stack([torch.stack([m[name] for name in names]) for m in self._pending])
        self._pending.clear()
        for name, value in zip(names, rows.nanmean(dim=0).tolist(), strict=True):
            if not math.isnan(value):  # grad_* of a group without a --grad-stats-every sample
                self.writer.add_scalar(name, value, frame)


class EventLog:
    """tensorboardX's writer, whose thread dies on a full disk and leaves each later add waiting on its
    queue for good: here a failed write costs the metrics from then on (one warning), not the run."""

    def __init__(self, logdir: Path) -> None:
        from tensorboardX import SummaryWriter

        self.logdir, self.failed = logdir, False
        self._hook, threading.excepthook = threading.excepthook, self._thread_died
        # A queue that no burst of adds fills in the moment between the thread's death and the hook.
        self._writer = SummaryWriter(logdir=str(logdir), max_queue=1000)

    def _thread_died(self, args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, OSError) and type(args.thread).__module__.startswith("tensorboardX"):
            self._lost(args.exc_value)
        else:
            self._hook(args)

    def _lost(self, e: OSError) -> None:
        self.failed = True
        print(f"warning: could not write TensorBoard's events in {self.logdir} ({e.strerror}); they end "
              "here, training goes on", file=sys.stderr, flush=True)

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        if not self.failed:
            self._writer.add_scalar(tag, value, step)

    def add_text(self, tag: str, text: str) -> None:
        if not self.failed:
            self._writer.add_text(tag, text)

    def close(self) -> None:
        threading.excepthook = self._hook
        events = self._writer.file_writer.event_writer
        try:
            if not self.failed:
                self._writer.close()
        except OSError as e:
            self._lost(e)
        events._closed = True  # else tensorboardX's exit hook retries a flush that failed, and raises


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _hm(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _span(low: str, high: str, dash: str = "-") -> str:
    return low if low == high else f"{low}{dash}{high}"


def precision(cuda: bool, bf16: bool, lag: bool = False) -> str:
    """The class a run's frames to solve are pooled in (docs/seeds.csv); --async-envs, whose actions
    may come from weights one update old, is a class apart as a precision is."""
    return ("cuda-" if cuda else "") + ("bf16" if bf16 else "float32") + ("-async" if lag else "")


def precision_of(numerics: str) -> str:
    """The precision class of a seed table's numerics (bf16-compile: bf16; async: float32-async)."""
    said = numerics.split("-")
    return precision(said[0] == "cuda", "bf16" in said, "async" in said)


def seeds_outlook(frame: int, fps: float, table: Path = SEEDS_TABLE, of: str = "float32") -> str | None:
    """What the solved runs of precision `of` (docs/seeds.csv) expect of a run at `frame`."""
    try:
        with table.open() as f:
            solved = sorted(int(r["frames"]) for r in csv.DictReader(f)
                            if r["state"] == "solved" and precision_of(r["numerics"]) == of)
    except (OSError, KeyError, ValueError):  # no table beside the script (a copy of it alone, say)
        return None
    if not solved or fps < 1:  # a run starved of CPU: no time worth saying
        return None
    low, high = solved[0], solved[-1]
    said = f"[outlook] the {len(solved)} {of} seed{'s' * (len(solved) != 1)} we ran solved at " \
           f"{_span(f'{low / 1e6:.2f}M', f'{high / 1e6:.2f}M')} frames"  # as the README's sentence
    if frame >= high:
        return f"{said}; this run, at {frame / 1e6:.2f}M, is past them all"
    left = _hm((high - frame) / fps) if frame >= low else \
        _span(_hm((low - frame) / fps), _hm((high - frame) / fps), " - ")
    return f"{said}: {'up to ' if frame >= low else ''}{left} more at {fps:,.0f} fps"


class StatusLine:
    """A progress line; with `outlook` (a precision class), now and then what its seed runs expect."""

    def __init__(self, start_frame: int, run_seconds_before: float = 0.0, outlook: str | None = None) -> None:
        self.start = self.last = time.time()
        self.start_frame, self.before, self.outlook = start_frame, run_seconds_before, outlook
        self.last_outlook = self.start - OUTLOOK_EVERY_S + OUTLOOK_FIRST_S

    def maybe_print(self, frame: int, tracker: RewardTracker, force: bool = False) -> None:
        now = time.time()
        if not force and now - self.last < STATUS_EVERY_S:
            return
        self.last = now
        elapsed = now - self.start
        fps = (frame - self.start_frame) / max(elapsed, 1e-9)
        mean = f"{tracker.mean_reward:.2f}" if tracker.rewards else "-"
        print(f"[status] frames {frame:,} | fps {fps:,.0f} | episodes {tracker.episodes} | "
              f"mean reward {mean} | elapsed {_hms(elapsed)} | run {_hms(self.before + elapsed)}", flush=True)
        if self.outlook and now - self.last_outlook >= OUTLOOK_EVERY_S:
            self.last_outlook = now
            line = seeds_outlook(frame, fps, of=self.outlook)
            if line:
                print(line, flush=True)


class Output:
    """stdout or stderr that outlives what it writes to. Where stdout's reader ended (`| tee`, which
    Ctrl-C ends too; a terminal that closed) its lines go on to stderr, or nowhere where stderr went
    the same way, and `gone` is called; a line that a full disk refuses is lost, not the run."""

    def __init__(self, stream: typing.TextIO, gone: Callable[[], None] | None = None) -> None:
        self.stream, self.gone, self.moved = stream, gone, False

    def _moved(self, error: OSError) -> bool:
        """fd 1 onto stderr, then onto /dev/null, where no one reads it any more; False: the line is lost."""
        if self.gone is None or error.errno not in (errno.EPIPE, errno.EIO):  # no reader; a hung-up terminal
            return False
        target = os.open(os.devnull, os.O_WRONLY) if self.moved else os.dup(2)
        os.dup2(target, self.stream.fileno())
        os.close(target)
        self.moved = True
        self.gone()
        return True

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as e:
            self._moved(e)
            return len(text)

    def flush(self) -> None:
        for _ in range(3):  # to stderr, then to /dev/null
            try:
                return self.stream.flush()
            except OSError as e:
                if not self._moved(e):
                    return

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class StopFlag:
    """SIGINT/SIGTERM/SIGHUP (unless nohup ignores it) ask the loop to stop after the step in hand; a
    second signal kills. The end of stdout's reader asks the same, as SIGPIPE would end the program."""

    def __init__(self, doing: str = "finishing the update in hand and saving a checkpoint") -> None:
        self.signal: str | None = None
        self.doing = doing
        self._old: dict[int, Any] = {}

    @property
    def why(self) -> str:
        """Why the loop stopped, or "" where nothing asked it to."""
        if self.signal == "SIGPIPE":
            return "its output's reader ended"
        return f"{self.signal} received" if self.signal else ""

    def __enter__(self) -> StopFlag:
        signals = [signal.SIGINT, signal.SIGTERM]
        hup = getattr(signal, "SIGHUP", None)  # not on Windows
        if hup is not None and signal.getsignal(hup) != signal.SIG_IGN:  # nohup's ignore stands
            signals.append(hup)
        for sig in signals:
            self._old[sig] = signal.signal(sig, self._handle)
        self._streams = sys.stdout, sys.stderr
        if sys.stdout is not None:  # None: started with stdout closed (>&-), where print does nothing
            sys.stdout = Output(sys.stdout, self._output_gone)
        if sys.stderr is not None:
            sys.stderr = Output(sys.stderr)
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        self.signal = signal.Signals(signum).name
        signal.signal(signum, self._old[signum])
        print(f"\n{self.why}: {self.doing} (send it again to quit at once)", flush=True)

    def _output_gone(self) -> None:
        self.signal = self.signal or "SIGPIPE"

    def __exit__(self, *exc: Any) -> None:
        sys.stdout, sys.stderr = self._streams
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


DEFAULT = Config()
AS_THE_SEEDS = tuple(k for k in (*HYPERPARAMETERS, "stop_reward") if k != "seed")


def runs_as_the_seeds(cfg: Config) -> bool:
    """Whether the runs over seeds speak for this one: the default hyperparameters, any seed."""
    return all(getattr(cfg, k) == getattr(DEFAULT, k) for k in AS_THE_SEEDS)


def new_run_dir(cfg: Config) -> Path:
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


def python_command() -> str:
    """This interpreter as the user can type it: `python` in an active venv, else its path."""
    on_path = shutil.which("python")
    if on_path and os.path.abspath(on_path) == os.path.abspath(sys.executable):
        return "python"
    relative = os.path.relpath(sys.executable)
    return shlex.quote(sys.executable if relative.startswith("..") else relative)


def resume_command(checkpoint: Path, cfg: Config) -> str:
    resume = f"--resume {shlex.quote(str(checkpoint))}"
    if "MAKELEVEL" in os.environ:  # make train, which adds --cuda itself
        return f"make train ARGS={shlex.quote(resume)}"
    script = shlex.quote(os.path.relpath(__file__))
    return f"{python_command()} {script} {resume}" + (" --cuda" if cfg.cuda else "")


def lock_run(run_dir: Path, shared: bool = False) -> int | None:
    """An exclusive flock on run_dir, freed however the process ends (None where there is no flock)."""
    try:
        import fcntl
        fd = os.open(run_dir, os.O_RDONLY)
    except (ImportError, OSError):
        return None
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    for wait in (0.0, 0.01, 0.05, 0.2):  # a trainer waits out a probe's brief shared lock (training_now)
        time.sleep(wait)
        try:
            fcntl.flock(fd, mode)
            return fd
        except BlockingIOError:
            if shared:
                break
        except OSError:
            os.close(fd)
            return None
    os.close(fd)
    raise UsageError(f"{run_dir} is training now in another process, and two would write the same "
                     "checkpoint; stop that one first (Ctrl-C where it runs, or kill -TERM its pid "
                     "from `pgrep -af train_a2c_pong`: it saves its checkpoint)")


def training_now(run_dir: Path) -> bool:
    try:
        held = lock_run(run_dir, shared=True)
    except UsageError:
        return True
    if held is not None:
        os.close(held)
    return False


def waiting_runs(runs_dir: str) -> list[tuple[Path, int]]:
    root = Path(runs_dir)
    found = sorted(root.glob("*/checkpoint.pt"), key=lambda p: p.stat().st_mtime) if root.is_dir() else []
    stopped = []
    for path in reversed(found):
        if training_now(path.parent):
            continue
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)  # reads no weights
            rewards, bar, frame = ckpt["rewards"], float(ckpt["config"]["stop_reward"]), int(ckpt["frame"])
        except Exception:  # damaged, or another program's: not one to offer
            continue
        if not solves(rewards, bar):
            stopped.append((path, frame))
    return stopped


# What train() returns; seconds: this invocation's, compiling's included.
TrainResult = collections.namedtuple("TrainResult", "run_dir frames episodes best_mean_reward mean_reward "
                                     "solved stopped_by seconds compile_seconds")


class Run:
    """The bookkeeping around train()'s loop; made before the net, as the envs' seed is the segment's."""

    def __init__(self, cfg: Config, resume: dict | None = None, run_dir: Path | None = None) -> None:
        self.cfg, self.resume, self.dir, self.began = cfg, resume, run_dir, time.perf_counter()
        # A resumed run is segment k of its run: its envs take seeds no earlier segment took, and
        # numpy's and torch's streams go on from the checkpoint, so no segment replays another.
        self.segment = int(resume.get("segment", 0)) + 1 if resume is not None else 0
        self.env_seed = cfg.seed + self.segment * cfg.envs
        if self.env_seed + cfg.envs > 2**32:  # ALE takes seeds below 2**32 only
            raise UsageError(f"--seed {cfg.seed}: env i takes seed + i, and with --envs {cfg.envs} (segment "
                             f"{self.segment} of its run) that reaches {self.env_seed + cfg.envs - 1}, above "
                             "2**32 - 1; take a smaller seed")
        folder, flag = (run_dir, "--resume") if run_dir else (Path(cfg.runs_dir), "--runs-dir")
        existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())  # before any work
        if not existing.is_dir():
            raise UsageError(f"{flag} {folder}: {existing} is a file, not a folder")
        if (why := cannot_write_in(existing)) is not None:
            raise UsageError(f"{flag} {folder}: cannot write in {existing} ({why})")
        if resume is not None and solves(resume["rewards"], cfg.stop_reward):
            mean = float(np.mean(resume["rewards"][-100:]))
            raise UsageError(f"{run_dir} is solved: its last 100 games average {mean:+.2f}, above "
                             f"--stop-reward {cfg.stop_reward:g}; to train it further, resume it with a "
                             "higher --stop-reward")
        self._lock = lock_run(run_dir) if run_dir is not None else None  # a new run's, once it has a folder
        self.seconds_before = float(resume.get("seconds", 0.0)) if resume is not None else 0.0
        self.frame = self.updates = 0
        self.seconds = 0.0
        self.solved = False
        self._best: tuple[dict[str, torch.Tensor], int] | None = None  # on the device until written
        self._last_best_save = float("-inf")

    def start(self, net: AtariA2C, optimizer: torch.optim.Optimizer, compile_seconds: float = 0.0) -> Run:
        self.net, self.optimizer, self.compile_seconds = net, optimizer, compile_seconds
        history = None if self.resume is None else restore(self.resume, net, optimizer)  # before any write
        if self.resume is not None and "rng" in self.resume:
            set_rng_state(self.resume["rng"])
        if history is None:
            waiting = waiting_runs(self.cfg.runs_dir)
            if waiting:
                (path, frame), more = waiting[0], len(waiting) - 1
                older = f" (and {more} older stopped run{'s' * (more != 1)}: ls -t {self.cfg.runs_dir})"
                print(f"note: {path.parent} stopped unsolved at frame {frame:,}{older if more else ''}; this "
                      f"starts a new run. To go on with that one instead: {resume_command(path, self.cfg)}",
                      flush=True)
        root = Path(self.cfg.runs_dir) if self.dir is None else self.dir.parent
        for other in sorted(root.iterdir()) if root.is_dir() else []:
            if other != self.dir and (other / "config.json").is_file() and training_now(other):
                print(f"note: {other} is training now in another process: the two runs share this "
                      "machine's cores", flush=True)
        if self.dir is None:
            self.dir = new_run_dir(self.cfg)
            self._lock = lock_run(self.dir)
        self.frame = history["frame"] if history is not None else 0
        earlier = list(self.resume.get("segments", [])) if self.resume is not None else []
        # What may change from one segment to the next, where it began, and its start-up seconds.
        self.segments = [*earlier, {"segment": self.segment, "frame": self.frame,
                                    "date": datetime.now().isoformat(timespec="seconds"),
                                    "startup_s": round(time.perf_counter() - self.began, 1),
                                    **{k: getattr(self.cfg, k) for k in CHANGING}}]
        write_json({**saved_config(self.cfg), "segments": self.segments}, self.dir / "config.json")
        self.writer = EventLog(self.dir)
        self.tracker = RewardTracker(self.writer, stop_reward=self.cfg.stop_reward)
        if history is not None:
            self.tracker.restore(**history)
            print(f"resumed {self.dir} at frame {self.frame:,}, {self.tracker.episodes} episodes, "
                  f"{_hms(self.seconds_before)} of training so far; every env starts a new game, so "
                  "episodes and the mean stand still until the first of them ends", flush=True)
        else:
            rows = "\n".join(f"|{k}|{v}|" for k, v in saved_config(self.cfg).items())
            self.writer.add_text("hyperparameters", f"|param|value|\n|-|-|\n{rows}")
            print(net, flush=True)
            print(f"run folder: {self.dir}", flush=True)
        self.first_frame = self.frame
        self.metrics = MetricBuffer(self.writer)
        cfg = self.cfg
        outlook = precision(cfg.cuda, cfg.bf16, cfg.async_envs) if runs_as_the_seeds(cfg) else None
        self.status = StatusLine(self.frame, self.seconds_before + compile_seconds, outlook)
        self.last_checkpoint = time.time()
        return self

    def __enter__(self) -> Run:
        self.stop = StopFlag().__enter__()
        self.started = time.perf_counter() - self.compile_seconds  # --compile's time is the run's too
        return self

    def record_games(self, rewards: Sequence[float]) -> bool:
        self.frame += 1
        self.solved = self.tracker.add_rewards(rewards, self.frame)
        if self.tracker.new_best:
            self.tracker.new_best = False
            self._best = {k: v.detach().clone() for k, v in self.net.state_dict().items()}, self.frame
            self._save_or_warn(lambda: self._save_best(force=False))
        if self.solved:
            print(f"Solved in {self.frame} frames!", flush=True)
        return self.solved

    def should_stop(self) -> bool:
        limit = self.cfg.max_frames
        if self.stop.signal or (limit is not None and self.frame - self.first_frame >= limit):
            return True
        self.status.maybe_print(self.frame, self.tracker)
        return False

    def grad_stats_due(self) -> bool:
        return self.updates % self.cfg.grad_stats_every == 0

    def track(self, metrics: dict[str, torch.Tensor]) -> None:
        self.metrics.add(metrics, self.frame)
        self.updates += 1
        if time.time() - self.last_checkpoint >= self.cfg.save_every * 60:
            self._save_or_warn(self._checkpoint)
            self.last_checkpoint = time.time()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: Any) -> None:
        try:
            if exc_type is None:
                self.seconds = time.perf_counter() - self.started
                self.metrics.flush(self.frame)
                self.status.maybe_print(self.frame, self.tracker, force=True)
                self._save_best(force=True)
                path = self._checkpoint()
                print(f"checkpoint: {path}", flush=True)
                if not self.solved:
                    why = self.stop.why or f"--max-frames {self.cfg.max_frames:,} done"
                    print(f"stopped ({why}) at frame {self.frame:,}; to go on: "
                          f"{resume_command(path, self.cfg)}", flush=True)
        finally:
            self.stop.__exit__()
            self.writer.close()
            if self._lock is not None:
                os.close(self._lock)

    def result(self) -> TrainResult:
        t = self.tracker
        return TrainResult(self.dir, self.frame, t.episodes, t.best_mean_reward, t.mean_reward, self.solved,
                           self.stop.signal, self.seconds, self.compile_seconds)

    def _checkpoint(self) -> Path:
        """Everything --resume needs and how the run was made; --play takes it too."""
        if not all(bool(torch.isfinite(p).all()) for p in self.net.parameters()):
            raise NonFiniteError("refusing to save non-finite weights")
        path = self.dir / "checkpoint.pt"
        atomic_save({"model": on_cpu(self.net.state_dict()), "optimizer": on_cpu(self.optimizer.state_dict()),
                     **self.tracker.history(self.frame), "config": saved_config(self.cfg),
                     "versions": versions(), "pipeline": pipeline(self.cfg.backend, self.cfg.sticky),
                     "segment": self.segment, "rng": rng_state(),
                     "seconds": self.seconds_before + time.perf_counter() - self.started,
                     "segments": self.segments}, path)
        return path

    def _save_best(self, force: bool) -> None:
        if self._best is not None and (force or time.time() - self._last_best_save >= BEST_SAVE_EVERY_S):
            weights, at_frame = self._best
            settings = pipeline(self.cfg.backend, self.cfg.sticky)
            self._last_best_save = time.time()  # a write that fails waits as long for its next try
            atomic_save(model_file(on_cpu(weights), at_frame, settings, saved_config(self.cfg)),
                        self.dir / "model_best.pt")
            self._best = None

    @staticmethod
    def _save_or_warn(save: Callable[[], Any]) -> None:
        """A save that fails mid-run (a full disk, say) costs a warning, not the run."""
        try:
            save()
        except OSError as e:
            print(f"warning: could not write {e.filename} ({e.strerror}); training goes on, "
                  "the previous file is intact", file=sys.stderr, flush=True)


# --- Play and record -------------------------------------------------------------------------

STEP_MS = 4 * 1000 / 60  # one agent step: 4 emulator frames at 60 Hz
FINAL_HOLD_MS = 2000  # the GIF's last frame, the game's last screen, stays this long
CAPTION_ROWS = 24  # the band of the GIF's last frame, over the score, that says the final score


class PlayEnv:
    """A model's training env, one game after another; --record's screens from a twin, seeded alike."""

    def __init__(self, backend: str, seed: int, sticky: float, record: bool) -> None:
        self.backend = backend
        self.rgb = None
        if backend == "vector":
            self.env = make_vector_env(1, 1, sticky)
            self.obs = self.env.reset(seed=seed)[0]
            self.shape = self.env.single_observation_space.shape, int(self.env.single_action_space.n)
            if record:
                self.rgb = make_vector_env(1, 1, sticky, rgb=True)
                self.screen = self.next_screen = self.rgb.reset(seed=seed)[0][0, 0]
        else:
            self.env = make_pong_env(0, seed, render_mode="rgb_array" if record else None, sticky=sticky)
            self.shape = self.env.observation_space.shape, int(self.env.action_space.n)

    def start(self) -> np.ndarray:
        if self.backend == "ptan":
            self.obs = self.env.reset()[0][None]
        elif self.rgb is not None:
            self.screen = self.next_screen
        return self.obs

    def render(self) -> np.ndarray:
        """The RGB screen now; after a game's last step, its last screen (not the next game's)."""
        return self.screen if self.rgb is not None else self.env.render()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        if self.backend == "ptan":
            obs, reward, terminated, truncated, _ = self.env.step(action)
            self.obs = obs[None]
            return self.obs, float(reward), terminated or truncated
        actions = np.array([action])
        self.obs, reward, terminated, truncated, _ = self.env.step(actions)
        done = bool(terminated[0] or truncated[0])
        if self.rgb is not None:
            screens, _, _, _, info = self.rgb.step(actions)
            self.next_screen = screens[0, 0]  # the next game's first screen, after the last one
            self.screen = info["final_obs"][0, 0] if done else self.next_screen
        return self.obs, float(reward[0]), done


def captioned(screen: np.ndarray, caption: str) -> np.ndarray:
    """`caption` over the score: ALE does not draw a game's last point, so its last screen is one short."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(screen)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width - 1, CAPTION_ROWS - 1), fill=(0, 0, 0))
    draw.text((4, CAPTION_ROWS // 2 - 6), caption, fill=(255, 255, 255))
    return np.asarray(image)


def write_gif(screens: Sequence[np.ndarray], path: str, caption: str) -> float:
    """A GIF at the game's speed (delays are whole centiseconds), its last screen held; its seconds."""
    from PIL import Image

    ends = [round((k + 1) * STEP_MS / 10) * 10 for k in range(len(screens))]
    durations = [b - a for a, b in zip([0, *ends], ends, strict=False)]
    durations[-1] = FINAL_HOLD_MS
    images = [Image.fromarray(s) for s in [*screens[:-1], captioned(screens[-1], caption)]]
    gif = {"format": "GIF", "save_all": True, "append_images": images[1:], "duration": durations, "loop": 0}
    atomic_write(Path(path), lambda f: images[0].save(f, **gif))
    return sum(durations) / 1000


def play(model_path: str, episodes: int, record: str | None, device: torch.device, seed: int,
         greedy: bool = False, sticky: float | None = None, backend: str | None = None,
         compile: bool = False) -> str | None:
    """Games on the model's own pipeline (and sticky actions unless given); the signal that stopped it."""
    if record is not None:  # --record's file can be written: checked before any game is played
        path = Path(record)
        folder = path.parent
        if path.is_dir():
            raise UsageError(f"--record {record}: is a folder; name a .gif file")
        if path.suffix.lower() != ".gif":
            raise UsageError(f"--record {record}: only .gif is supported (written with Pillow)")
        if not folder.is_dir():
            raise UsageError(f"--record {record}: the folder {folder} does not exist")
        if (why := cannot_write_in(folder)) is not None:
            raise UsageError(f"--record {record}: cannot write in {folder} ({why})")
    net, settings = load_model(model_path, backend)
    net = net.to(device)
    trained_sticky = settings["repeat_action_probability"]
    sticky = trained_sticky if sticky is None else sticky
    env = PlayEnv(settings["backend"], seed, sticky, record is not None)
    if net_shape(net.state_dict()) != env.shape:
        raise UsageError(f"{model_path}: model shape does not fit {ENV_ID}")
    how = "as trained" if sticky == trained_sticky else f"trained with {trained_sticky:g}"
    print(f"playing on {device.type} with {torch_threads()}: "
          f"{'greedy' if greedy else 'sampled'} actions, sticky actions {sticky:g} ({how})", flush=True)
    if compile:
        try:
            compile_net(net, net, device, envs=1)
        except UsageError:  # as in net_and_source: the envs go, not the frames that torch may keep
            del env
            raise
    seed_everything(seed)
    act = policy_sampler(net, device, greedy=greedy)
    scores, screens, caption = [], [], ""
    with StopFlag("stopping the game") as stop:
        for game in range(episodes):
            obs = env.start()
            points, done, last_print = [0, 0], False, time.time()
            while not done and not stop.signal:
                if record and game == 0:
                    screens.append(env.render())
                obs, reward, done = env.step(int(act(obs)[0]))
                if reward:
                    points[reward < 0] += 1
                if time.time() - last_print >= STATUS_EVERY_S and not done:
                    print(f"[status] game {game + 1}: {points[0]}-{points[1]} so far", flush=True)
                    last_print = time.time()
            if stop.signal:
                break
            if record and game == 0:
                screens.append(env.render())  # the game's last screen
            scores.append(points[0] - points[1])
            if game == 0:
                caption = f"final: green {points[0]}, orange {points[1]}"  # the agent plays green
            print(f"game {game + 1}: score {scores[-1]:+d} ({points[0]}-{points[1]})", flush=True)
    if scores:
        n, wins = len(scores), sum(score > 0 for score in scores)
        print(f"mean score over {n} game{'s' * (n != 1)}: {np.mean(scores):+.2f}, won {wins} of {n} "
              f"(sticky actions {sticky:g}, {how})", flush=True)
    if record and scores:
        seconds = write_gif(screens, record, caption)
        print(f"wrote {record}: game 1, {len(screens) - 1} agent steps, {seconds:.1f} s at the game's speed "
              f"(the last screen held at the end, captioned '{caption}')", flush=True)
    return stop.signal


# --- The command line and main ---------------------------------------------------------------

EXIT_SIGNAL = {"SIGHUP": 129, "SIGINT": 130, "SIGPIPE": 141, "SIGTERM": 143}
DESCRIPTION = """\
A2C on Atari Pong, after the A2C chapter of Deep Reinforcement Learning Hands-On and its notebook.

Three modes:
  train   (no mode flag) train until the mean of the last 100 games exceeds --stop-reward
  resume  --resume runs/<run>/checkpoint.pt continues a stopped run with its hyperparameters
  play    --play MODEL plays Pong with a saved agent (docs/pong_a2c_sticky.pt, docs/pong_a2c.pt,
          runs/<run>/model_best.pt)
"""
EPILOG = """\
A run writes runs/<date>_<host>-pong-a2c[-name]/: the TensorBoard event files (tensorboard
--logdir runs), config.json, model_best.pt (the weights at the best 100-game mean so far, from
the first finished game on) and checkpoint.pt (every --save-every minutes and at the end; --play
takes it too, for the last weights).

Exit status: 0 done, 1 a file could not be written at the end, 2 bad input or a missing
package, 3 a non-finite loss; stopped by a signal, 128 + its number: 130 SIGINT (Ctrl-C), 143 SIGTERM,
129 SIGHUP (a closed terminal), and 141 where its output's reader ended (| tee). Each stop while
training saves a checkpoint.
"""
GROUPS = {  # the modes that take a setting -> its --help section
    (TRAIN,): "training (also with --resume, but for --name and --runs-dir; the hyperparameters must "
              "then agree with the checkpoint's, the others may change)",
    (TRAIN, PLAY): "training and --play",
    (RESUME,): "resume",
    (PLAY,): "play",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's refusals as one line too (not the usage block): exit status 2."""
        raise UsageError(f"{message} (see --help)")


def _typed(kind: type, check: tuple[str, Callable[[Any], bool]] | None) -> Callable[[str], Any]:
    """An argparse type that refuses nonsense (0 envs, NaN lr) with one line."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or (check is not None and not check[1](value)):
            what = check[0] if check else f"a {kind.__name__}"
            what = what.replace("number", "integer") if kind is int else what
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sections = {modes: p.add_argument_group(title) for modes, title in GROUPS.items()}
    hints = typing.get_type_hints(Config)
    for f in dataclasses.fields(Config):
        meta = f.metadata
        kind = next(k for k in typing.get_args(hints[f.name]) or (hints[f.name],) if k is not type(None))
        hidden = f.default is None or f.default is False or f.default == ""
        shown = meta["shown"] or ("" if hidden else str(f.default))
        kw: dict[str, Any] = {"default": argparse.SUPPRESS, **meta["flag"],
                              "help": meta["help"] + (f" (default: {shown})" if shown else "")}
        if kind is bool:
            kw.setdefault("action", "store_true")
        else:
            kw["type"] = _typed(kind, meta["check"])
        sections[meta["modes"]].add_argument(_flag(f.name), **kw)
    return p


def parse_args(argv: Sequence[str] | None) -> tuple[Config, set[str]]:
    given = vars(build_parser().parse_args(argv))
    return Config(**given), set(given)


def check_modes(given: set[str]) -> None:
    fields = {f.name: f.metadata["modes"] for f in dataclasses.fields(Config)}
    if "play" in given:
        if "resume" in given:
            raise UsageError("--play and --resume are two modes; give one of them")
        ignored = sorted(k for k in given if PLAY not in fields[k])
        if ignored:
            takes = ", ".join(_flag(k) for k, modes in fields.items() if PLAY in modes)
            raise UsageError(f"{_flag(ignored[0])} is a training option; --play takes only {takes}")
        return
    for key in sorted(given):
        if fields[key] == (PLAY,):
            raise UsageError(f"{_flag(key)} needs --play")
    refused = sorted(f.name for f in dataclasses.fields(Config) if f.metadata["on_resume"] == REFUSED)
    for key in refused if "resume" in given else ():
        if key in given:
            raise UsageError(f"{_flag(key)} names a new run's folder; a resumed run goes on in the folder of "
                             "its checkpoint (drop the flag)")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cfg, given = parse_args(argv)
        check_modes(given)
        # What the mode imports on its way, before any work: a package left out costs one line, not a run.
        for name in ("ale_py",) if cfg.play is not None else ("ale_py", "tensorboardX", "ptan"):
            importlib.import_module(name)
        if cfg.play is not None:
            torch.set_num_threads(cfg.torch_threads or 1)  # one frame at a time: more threads only spin
            stopped_by = play(cfg.play, cfg.episodes, cfg.record, pick_device(cfg.cuda), cfg.seed, cfg.greedy,
                              cfg.sticky if "sticky" in given else None,
                              cfg.backend if "backend" in given else None, cfg.compile)
            return EXIT_SIGNAL[stopped_by] if stopped_by else 0
        resume, run_dir = None, None
        if cfg.resume is not None:
            path = checkpoint_path(cfg.resume)
            resume = load_checkpoint(path)
            cfg = resume_config(cfg, given, resume, path)
            run_dir = Path(path).parent
        result = train(cfg, resume=resume, run_dir=run_dir)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except NonFiniteError as e:
        print(f"error: {e}; training stopped, the files on disk are the last good ones", file=sys.stderr)
        return 3
    except ModuleNotFoundError as e:  # ptan's own install step is the one people miss
        name = str(e.name).split(".")[0]
        fix = "pip install --no-deps ptan==0.8.1" if name == "ptan" else "pip install -r requirements.txt"
        print(f"error: {name} is not installed: {fix} (make setup installs all it needs)", file=sys.stderr)
        return 2
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
    if _LOADING:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
