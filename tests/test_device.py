"""The device path without a GPU: every tensor the update touches lives on the model's device,
and the host is reached only where the README says (issue 3, item 3).

The model goes to PyTorch's "meta" device, which has tensors without data. Mixing a host tensor
into meta arithmetic raises, as mixing one into CUDA arithmetic does, so a tensor built without
`device=` fails here before it fails on a GPU. `HostCopies` counts the places where data would
leave the device (a scalar read or a copy to the CPU) and answers them with zeros.
"""

import numpy as np
import pytest
import torch
from bench_throughput import HostFrames
from catch_env import CatchVectorEnv
from conftest import NOTEBOOK_METRICS, points
from ptan.experience import ExperienceFirstLast
from torch.utils._python_dispatch import TorchDispatchMode

import train_a2c_pong as t

META = torch.device("meta")


class HostCopies(TorchDispatchMode):
    """Counts reads of meta data by the host; a scalar reads as 1, a copy as zeros."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        source = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if source is not None and source.is_meta:
            if func is torch.ops.aten._local_scalar_dense.default:
                self.count += 1
                return 1
            if kwargs.get("device") == torch.device("cpu"):
                self.count += 1
                return torch.zeros(source.shape, dtype=kwargs.get("dtype") or source.dtype)
        return func(*args, **kwargs)


class FramesToDevice(TorchDispatchMode):
    """Counts the uint8 frames (rows) copied from the host to the meta device."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        source = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if source is not None and source.device.type == "cpu" and source.dtype == torch.uint8 \
                and isinstance(out, torch.Tensor) and out.is_meta:
            self.frames += len(source)
        return out


def frames(n: int) -> list[np.ndarray]:
    return [np.full((4, 84, 84), i, dtype=np.uint8) for i in range(n)]


def meta_batch(net: t.AtariA2C) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    s = frames(128)
    batch = [ExperienceFirstLast(s[i], i % 6, 0.5, s[i] if i % 3 else None) for i in range(128)]
    return t.unpack_batch(batch, net, 0.99, 4, META)


def test_a_host_tensor_in_device_arithmetic_is_caught():
    with pytest.raises(RuntimeError, match="device"):
        torch.zeros(3, device=META) + torch.zeros(3)


def test_unpack_batch_forms_targets_on_the_device_without_reading_them():
    net = t.place(t.AtariA2C((4, 84, 84), 6), META)
    with HostCopies() as host:
        states, actions, targets = meta_batch(net)
    assert {states.device, actions.device, targets.device} == {META}
    assert states.dtype == torch.uint8
    assert host.count == 0


def test_one_update_reads_one_scalar_on_the_host():
    net = t.place(t.AtariA2C((4, 84, 84), 6), META)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-3)
    with HostCopies() as host:
        states, actions, targets = meta_batch(net)
        metrics = t.a2c_update(net, optimizer, states, actions, targets, t.Config())
    assert tuple(metrics) == NOTEBOOK_METRICS and {m.device for m in metrics.values()} == {META}
    assert host.count == 1  # the NaN guard's gradient norm


def test_actions_cross_to_the_host_once_per_step():
    net = t.place(t.AtariA2C((4, 84, 84), 6), META)
    act = t.policy_sampler(net, META)
    with HostCopies() as host:
        actions = act(np.stack(frames(50)))
    assert host.count == 1
    assert actions.shape == (50,) and actions.dtype == np.int64


def test_metrics_cross_to_the_host_once_per_ten_updates():
    written: list[str] = []

    class Writer:
        def add_scalar(self, name, value, frame):
            written.append(name)

    buffer = t.MetricBuffer(Writer())
    with HostCopies() as host:
        for update in range(1, 21):
            buffer.add({n: torch.zeros((), device=META) for n in NOTEBOOK_METRICS}, update)
            assert host.count == update // 10
    assert written == list(NOTEBOOK_METRICS) * 2


@pytest.mark.slow
def test_the_training_loop_runs_with_the_model_off_the_host(tmp_path, monkeypatch):
    monkeypatch.setattr(t, "pick_device", lambda cuda: META)
    cfg = t.Config(runs_dir=str(tmp_path), envs=8, max_frames=1280)
    with HostCopies():
        result = t.train(cfg, env=CatchVectorEnv(cfg.envs))
    assert result.frames == 1280 and result.episodes > 0
    state = torch.load(result.run_dir / "checkpoint.pt", weights_only=True)["model"]
    assert {v.device for v in state.values()} == {torch.device("cpu")}


@pytest.mark.slow
def test_each_frame_crosses_to_the_device_once(tmp_path, monkeypatch):
    """Acting, unpack_batch's states and its last states all read the copy made when the frame came."""
    monkeypatch.setattr(t, "pick_device", lambda cuda: META)
    cfg = t.Config(runs_dir=str(tmp_path), envs=8, max_frames=1280)
    with FramesToDevice() as copied, HostCopies():
        result = t.train(cfg, env=CatchVectorEnv(cfg.envs))
    # At most the reset's frames and the N steps before a first N-step transition more; three
    # crossings (acting, states, last states) would be nearly three times as many.
    assert result.frames <= copied.frames <= result.frames + (cfg.reward_steps + 1) * cfg.envs


@pytest.mark.slow
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA GPU here")])])
def test_frames_that_cross_once_train_as_frames_copied_from_the_host(device, tmp_path, deterministic,
                                                                     monkeypatch):
    """Where the frames are copied changes no scalar, with deterministic algorithms: Pong, 8 envs."""
    runs = []
    for name, source in (("once", t.VectorExperienceSource), ("host", HostFrames)):
        monkeypatch.setattr(t, "VectorExperienceSource", source)
        cfg = t.Config(envs=8, cuda=device == "cuda", max_frames=3000, save_every=1e9,
                       runs_dir=str(tmp_path / name))
        runs.append(points(t.train(cfg, env=t.make_vector_env(8)).run_dir))
    assert len(runs[0]["loss_total"]) > 1 and runs[0] == runs[1]


class ImprovingCatch(CatchVectorEnv):
    """Catch whose every finished game scores more than the one before: a new best mean each time."""

    games = 0

    def step(self, actions):
        obs, rewards, terminated, truncated, info = super().step(actions)
        rewards = rewards.copy()
        for i in np.flatnonzero(terminated | truncated):
            self.games += 1
            rewards[i] = self.games / 1000
        return obs, rewards, terminated, truncated, info


@pytest.mark.slow
def test_the_best_model_reaches_the_host_only_when_it_is_written(tmp_path, monkeypatch):
    """A new best 100-game mean keeps a copy on the device; the host copy (on_cpu) is made per
    file write (at most every 10 s, and at the end), not per new best."""
    copies, best_writes, news = [], [], []
    real_on_cpu, real_save, real_record = t.on_cpu, t.atomic_save, t.RewardTracker._record
    monkeypatch.setattr(t, "pick_device", lambda cuda: META)

    def on_cpu(obj):
        if isinstance(obj, dict) and "conv.0.weight" in obj:  # the model's weights, not their parts
            copies.append(1)
        return real_on_cpu(obj)

    def save(obj, path):
        if path.name == "model_best.pt":
            best_writes.append(path)
        real_save(obj, path)

    def record(self, *args):
        before = self.best_mean_reward
        solved = real_record(self, *args)
        news.append(self.best_mean_reward > before)
        return solved

    monkeypatch.setattr(t, "on_cpu", on_cpu)
    monkeypatch.setattr(t, "atomic_save", save)
    monkeypatch.setattr(t.RewardTracker, "_record", record)
    cfg = t.Config(runs_dir=str(tmp_path), envs=8, max_frames=1280, stop_reward=1e9)
    with HostCopies():
        t.train(cfg, env=ImprovingCatch(cfg.envs))
    assert sum(news) > 10 * len(best_writes) and len(best_writes) >= 1  # many more bests than files
    assert len(copies) == len(best_writes) + 1  # + the final checkpoint's
