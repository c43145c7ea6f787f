import math

import pytest
import torch

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
    m = dict(zip(t.METRIC_NAMES, metrics.tolist(), strict=True))
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
