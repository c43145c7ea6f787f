import time

import pytest
import torch
from conftest import GRAD_STATS, NOTEBOOK_METRICS

import train_a2c_pong as t


class Writer:
    def __init__(self):
        self.scalars = []

    def add_scalar(self, name, value, step):
        self.scalars.append((name, value, step))


def test_window_mean_keeps_the_last_100():
    tr = t.RewardTracker(Writer(), stop_reward=18)
    for r in range(150):
        tr.add_rewards([float(r)], frame=r)
    assert tr.mean_reward == pytest.approx(sum(range(50, 150)) / 100)
    assert tr.episodes == 150


def test_stop_decision_needs_the_mean_above_the_bar():
    tr = t.RewardTracker(Writer(), stop_reward=18, window_size=4)
    assert not tr.add_rewards([18.0, 18.0, 18.0, 18.0], frame=1)  # mean 18 is not above 18
    assert tr.add_rewards([21.0], frame=2)  # (18*3 + 21) / 4 = 18.75


def test_a_window_not_yet_full_does_not_stop():
    tr = t.RewardTracker(Writer(), stop_reward=0.5, window_size=100)
    assert not tr.add_rewards([1.0] * 99, frame=1)  # mean 1.0, but over 99 games
    assert tr.add_rewards([1.0], frame=2)


def test_two_episodes_ending_in_one_step_are_both_recorded():
    w = Writer()
    tr = t.RewardTracker(w, stop_reward=18)
    tr.add_rewards([-21.0, -19.0], frame=500)
    assert tr.episodes == 2 and tr.mean_reward == -20.0
    assert [v for n, v, _ in w.scalars if n == "reward"] == [-21.0, -19.0]
    assert {n for n, _, _ in w.scalars} == {"fps", "reward_100", "reward"}


def test_episodes_ending_together_share_one_fps_figure():
    w = Writer()
    tr = t.RewardTracker(w, stop_reward=18)
    tr.add_rewards([-21.0], frame=1000)
    time.sleep(0.05)
    tr.add_rewards([-20.0, -19.0], frame=2000)
    fps = [v for n, v, _ in w.scalars if n == "fps"]
    assert len(fps) == 3 and fps[1] == fps[2] > 0
    assert fps[1] < 2000 / 0.05  # 2000 frames since the tracker began, at least 50 ms ago


def test_best_mean_is_tracked():
    tr = t.RewardTracker(Writer(), stop_reward=18)
    tr.add_rewards([-20.0, -10.0, -21.0], frame=10)
    assert tr.best_mean_reward == -15.0


def metrics(value: float, grads: float | None = None) -> dict[str, torch.Tensor]:
    """One update's metrics by name, as a2c_update returns them."""
    grads = value if grads is None else grads
    return {n: torch.tensor(grads if n in GRAD_STATS else value) for n in NOTEBOOK_METRICS}


def test_metric_buffer_writes_means_of_ten_and_flushes_the_rest():
    w = Writer()
    buf = t.MetricBuffer(w)
    for k in range(25):
        buf.add(metrics(float(k)), frame=100 * k)
    loss = [(v, step) for n, v, step in w.scalars if n == "loss_total"]
    assert loss == [(4.5, 900), (14.5, 1900)]  # means of updates 0-9 and 10-19
    buf.flush(frame=2500)
    buf.flush(frame=2600)  # nothing left: writes nothing
    loss = [(v, step) for n, v, step in w.scalars if n == "loss_total"]
    assert loss[2:] == [(22.0, 2500)]  # the mean of the last five is not lost at a stop
    assert {n for n, _, _ in w.scalars} == set(NOTEBOOK_METRICS)


def test_gradient_statistics_are_the_mean_of_the_updates_that_took_them():
    w = Writer()
    buf = t.MetricBuffer(w)
    for k in range(15):
        grads = float(k) if k % 10 == 0 else float("nan")  # --grad-stats-every 10: updates 0 and 10
        buf.add(metrics(float(k), grads), frame=100 * k)
    buf.flush(frame=1500)
    grad = [(v, step) for n, v, step in w.scalars if n == "grad_l2"]
    loss = [(v, step) for n, v, step in w.scalars if n == "loss_total"]
    assert loss == [(4.5, 900), (12.0, 1500)]
    assert grad == [(0.0, 900), (10.0, 1500)]
    buf.add(metrics(1.0, float("nan")), frame=1600)
    buf.flush(frame=1600)  # a group without a sampled update writes no grad_* point
    written = [n for n, _, step in w.scalars if step == 1600]
    assert written == [n for n in NOTEBOOK_METRICS if n not in GRAD_STATS]
