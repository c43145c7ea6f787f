import numpy as np
import pytest
import torch
from ptan.experience import ExperienceFirstLast

import train_a2c_pong as t


class KnownValues(torch.nn.Module):
    """Stand-in network: V(s) is the first pixel of s, logits are zeros; a head asked out is None."""

    def forward(self, x, policy=True, value=True):
        return torch.zeros(len(x), 6) if policy else None, x[:, 0, 0, 0].float()[:, None] if value else None


def frame(v: int) -> np.ndarray:
    s = np.zeros((4, 84, 84), dtype=np.uint8)
    s[0, 0, 0] = v
    return s


def test_targets_mix_finished_and_unfinished_windows():
    gamma, n = 0.9, 3
    batch = [
        ExperienceFirstLast(frame(1), 2, 1.5, frame(10)),
        ExperienceFirstLast(frame(2), 0, -1.0, None),
        ExperienceFirstLast(frame(3), 5, 0.0, frame(20)),
        ExperienceFirstLast(frame(4), 1, 2.0, None),
    ]
    states, actions, targets = t.unpack_batch(batch, KnownValues(), gamma, n)
    expected = [1.5 + 0.729 * 10, -1.0, 0.0 + 0.729 * 20, 2.0]
    assert targets.tolist() == pytest.approx(expected, rel=1e-6)
    assert actions.tolist() == [2, 0, 5, 1] and actions.dtype == torch.long
    assert states.dtype == torch.uint8 and states.shape == (4, 4, 84, 84)
    assert states[:, 0, 0, 0].tolist() == [1, 2, 3, 4]


def test_all_finished_batch_needs_no_network():
    class Boom(torch.nn.Module):
        def forward(self, x, policy=True, value=True):
            raise AssertionError("network called without unfinished windows")

    batch = [ExperienceFirstLast(frame(1), 0, 3.0, None)]
    _, _, targets = t.unpack_batch(batch, Boom(), 0.99, 4)
    assert targets.tolist() == [3.0]


def test_targets_carry_no_gradient():
    net = t.AtariA2C((4, 84, 84), 6)
    batch = [ExperienceFirstLast(frame(1), 0, 1.0, frame(2))]
    _, _, targets = t.unpack_batch(batch, net, 0.99, 4)
    assert not targets.requires_grad
