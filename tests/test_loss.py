import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import NOTEBOOK_METRICS

import train_a2c_pong as t


def small_batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    net = t.AtariA2C((4, 84, 84), 6)
    states = torch.randint(0, 256, (5, 4, 84, 84), dtype=torch.uint8, generator=g)
    actions = torch.tensor([0, 3, 5, 1, 3])
    targets = torch.tensor([1.0, -0.5, 0.25, 2.0, -1.0])
    return net, states, actions, targets


def test_each_loss_term_matches_a_hand_computation():
    net, states, actions, targets = small_batch()
    beta = 0.01
    losses = t.a2c_losses(net, states, actions, targets, beta)
    logits, values = net(states)
    n = len(actions)
    policy = value = entropy = 0.0
    for i in range(n):
        z = logits[i].tolist()
        m = max(z)
        lse = m + math.log(sum(math.exp(v - m) for v in z))
        logp = [v - lse for v in z]
        v_i = values[i, 0].item()
        adv = targets[i].item() - v_i
        policy += -adv * logp[actions[i]] / n
        value += (v_i - targets[i].item()) ** 2 / n
        entropy += beta * sum(math.exp(lp) * lp for lp in logp) / n
    assert losses.policy.item() == pytest.approx(policy, rel=1e-5, abs=1e-7)
    assert losses.value.item() == pytest.approx(value, rel=1e-5)
    assert losses.entropy.item() == pytest.approx(entropy, rel=1e-5)
    assert losses.advantage.shape == (n,)  # per sample, not the seed's [n, n] broadcast


def grads_after(loss: torch.Tensor, module: torch.nn.Module) -> list[torch.Tensor | None]:
    module.zero_grad(set_to_none=True)
    loss.backward(retain_graph=True)
    return [p.grad for p in module.parameters()]


@pytest.mark.parametrize("loss,silent,moved", [("value", "policy", "value"), ("policy", "value", "policy")])
def test_each_head_gets_gradient_only_from_its_own_loss(loss, silent, moved):
    net, states, actions, targets = small_batch()
    losses = t.a2c_losses(net, states, actions, targets, 0.01)
    grads_after(getattr(losses, loss), net)
    assert all(p.grad is None for p in getattr(net, silent).parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in getattr(net, moved).parameters())


def test_update_returns_the_seed_metrics_and_moves_the_weights():
    net, states, actions, targets = small_batch()
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-3)
    cfg = t.Config()
    with torch.no_grad():
        expected = t.a2c_losses(net, states, actions, targets, cfg.entropy_beta)
    metrics = t.a2c_update(net, opt, states, actions, targets, cfg)
    m = {name: value.item() for name, value in metrics.items()}
    assert m["loss_policy"] == pytest.approx(expected.policy.item(), rel=1e-5, abs=1e-7)
    assert m["loss_total"] == pytest.approx(
        (expected.policy + expected.value + expected.entropy).item(), rel=1e-5)
    assert m["batch_rewards"] == pytest.approx(targets.mean().item())
    assert m["grad_max"] > 0 and m["grad_l2"] > 0 and m["grad_var"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_update_refuses_a_non_finite_loss_and_keeps_the_weights():
    net, states, actions, _ = small_batch()
    before = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.Adam(net.parameters())
    with pytest.raises(t.NonFiniteError):
        t.a2c_update(net, opt, states, actions, torch.full((5,), float("nan")), t.Config())
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_batch_mean_baseline_is_the_notebooks_broadcast_loss():
    net, states, actions, targets = small_batch()
    with torch.no_grad():
        net.value[2].weight.mul_(1000)  # values that differ from state to state, as a trained net's
    losses = t.a2c_losses(net, states, actions, targets, 0.01, baseline="batch-mean")
    # the notebook's lines, as written: values [B, 1] against targets [B] broadcast to [B, B]
    logits, values = net(states)
    log_action_prob = F.log_softmax(logits, dim=1)
    advantage = targets - values.detach()
    scaled_log_action_prob = advantage * log_action_prob[range(len(actions)), actions]
    notebook = -scaled_log_action_prob.mean()
    assert losses.policy.item() == pytest.approx(notebook.item(), rel=1e-6)
    logp = log_action_prob[range(len(actions)), actions].detach()
    batch_mean = -(logp * (targets - values.mean().detach())).mean()  # the same, read as a baseline
    assert losses.policy.item() == pytest.approx(batch_mean.item(), rel=1e-5)
    per_sample = t.a2c_losses(net, states, actions, targets, 0.01).policy
    assert abs(per_sample.item() - notebook.item()) > 1e-3  # the two baselines differ on this batch


def test_grad_stats_cover_every_parameter_as_torch_1_zero_grad_left_them():
    net, states, actions, targets = small_batch()
    hand = copy.deepcopy(net)
    metrics = t.a2c_update(net, torch.optim.Adam(net.parameters()), states, actions, targets, t.Config())
    m = {name: value.item() for name, value in metrics.items()}
    t.a2c_losses(hand, states, actions, targets, 0.01).policy.backward()
    # the notebook's np.concatenate over parameters, where torch 1.x had zeros, not None
    grads = np.concatenate([p.grad.numpy().ravel() if p.grad is not None else np.zeros(p.numel())
                            for p in hand.parameters()]).astype(np.float64)
    assert m["grad_l2"] == pytest.approx(np.sqrt(np.mean(np.square(grads))), rel=1e-5)
    assert m["grad_max"] == pytest.approx(np.max(np.abs(grads)), rel=1e-6)
    assert m["grad_var"] == pytest.approx(np.var(grads), rel=1e-4)
    policy_only = np.concatenate([p.grad.numpy().ravel() for p in hand.parameters() if p.grad is not None])
    assert len(policy_only) < len(grads)  # the value head's zeros are in
    assert m["grad_l2"] < 0.9 * np.sqrt(np.mean(np.square(policy_only.astype(np.float64))))


def updates(pattern: list[bool]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The weights after len(pattern) updates on fixed batches, grad statistics where True."""
    net, states, actions, targets = small_batch()
    torch.manual_seed(1)
    net = t.AtariA2C((4, 84, 84), 6)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-3)
    metrics = []
    for k, with_stats in enumerate(pattern):
        g = torch.Generator().manual_seed(100 + k)
        batch = torch.randint(0, 256, (16, 4, 84, 84), dtype=torch.uint8, generator=g)
        acts = torch.randint(0, 6, (16,), generator=g)
        tgts = torch.randn(16, generator=g)
        m = t.a2c_update(net, opt, batch, acts, tgts, t.Config(), with_stats)
        metrics.append(torch.stack([m[name] for name in NOTEBOOK_METRICS]))  # grad_* last
    return [p.detach() for p in net.parameters()], metrics


def test_one_backward_pass_leaves_the_weights_of_two():
    two_pass, m_two = updates([True] * 12)           # --grad-stats-every 1, the notebook's update
    every_10, m_10 = updates([k % 10 == 0 for k in range(12)])  # the default
    one_pass, m_one = updates([False] * 12)
    for a, b, c in zip(two_pass, every_10, one_pass, strict=True):
        # float sums in another order: gradients agree to ~1e-7, and Adam's steps after them
        assert torch.allclose(a, b, rtol=0, atol=1e-6) and torch.allclose(a, c, rtol=0, atol=1e-6)
    for k in range(12):
        assert torch.allclose(m_two[k][:7], m_one[k][:7], rtol=1e-4, atol=1e-6)  # losses, values, ...
        assert torch.isnan(m_one[k][7:]).all()
    assert torch.equal(m_10[0], m_two[0])
    assert torch.allclose(m_10[10][7:], m_two[10][7:], rtol=1e-4)  # a sampled update's statistics
    assert torch.isnan(m_10[1][7:]).all()
