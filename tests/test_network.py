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
