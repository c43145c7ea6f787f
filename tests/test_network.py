import pytest
import torch

import train_a2c_pong as t


def test_forward_shapes_and_dtypes_for_uint8_frames():
    net = t.AtariA2C((4, 84, 84), 6)
    x = torch.randint(0, 256, (5, 4, 84, 84), dtype=torch.uint8)
    logits, values = net(x)
    assert logits.shape == (5, 6) and values.shape == (5, 1)
    assert logits.dtype == torch.float32 and values.dtype == torch.float32


def test_input_is_scaled_by_1_over_256():
    net = t.AtariA2C((4, 84, 84), 6)
    x = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8)
    seen = {}
    net.conv[0].register_forward_pre_hook(lambda m, inp: seen.update(x=inp[0]))
    net(x)
    assert torch.equal(seen["x"], x.float() / 256)


def test_parameter_count_for_pong():
    conv = (4 * 32 * 8 * 8 + 32) + (32 * 64 * 4 * 4 + 64) + (64 * 64 * 3 * 3 + 64)
    flat = 64 * 7 * 7  # 84 -> 20 -> 9 -> 7
    policy = (flat * 512 + 512) + (512 * 6 + 6)
    value = (flat * 512 + 512) + (512 * 1 + 1)
    net = t.AtariA2C((4, 84, 84), 6)
    assert sum(p.numel() for p in net.parameters()) == conv + policy + value


def test_net_shape_reads_a_state_dict():
    net = t.AtariA2C((4, 84, 84), 3)
    assert t.net_shape(net.state_dict()) == ((4, 84, 84), 3)


def test_channels_last_placement_computes_the_same_values_and_gradients():
    torch.manual_seed(0)
    plain = t.AtariA2C((4, 84, 84), 6)
    placed = t.place(t.AtariA2C((4, 84, 84), 6), torch.device("cpu"))
    placed.load_state_dict(plain.state_dict())
    assert placed.conv[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randint(0, 256, (8, 4, 84, 84), dtype=torch.uint8)
    outs = [net(x) for net in (plain, placed)]
    for a, b in zip(*outs, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)  # float sums in another order
    for logits, values in outs:
        (logits.sum() + values.sum()).backward()
    for a, b in zip(plain.parameters(), placed.parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n", [50, 128, 3])
def test_one_head_gives_the_full_forwards_numbers_and_skips_the_other(n):
    """Acting asks for the logits alone, unpack_batch's last states for the values alone: the same
    numbers, bit for bit, as the notebook's full forward on the net as placed to train."""
    torch.manual_seed(n)
    net = t.place(t.AtariA2C((4, 84, 84), 6), torch.device("cpu"))
    x = torch.randint(0, 256, (n, 4, 84, 84), dtype=torch.uint8)
    ran = []
    for head in (net.policy, net.value):
        head.register_forward_hook(lambda m, inp, out: ran.append(m))
    with torch.inference_mode():
        logits, values = net(x)
        ran.clear()
        policy_only, value_only = net(x, value=False), net(x, policy=False)
    assert ran == [net.policy, net.value]  # each call ran its one head
    assert policy_only[1] is None and value_only[0] is None
    assert torch.equal(policy_only[0], logits) and torch.equal(value_only[1], values)
