"""The U-Net's outputs and loss with several targets, some of them unlabelled."""

from __future__ import annotations

import pytest
import torch

from skcardio.segment._unet_net import SegmentationLoss, UNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_unet_outputs_one_map_per_target():
    x = torch.zeros(2, 1, 16, 16)
    assert UNet(base_channels=2, depth=2)(x).shape == (2, 16, 16)
    assert UNet(base_channels=2, depth=2, out_channels=2)(x).shape == (2, 2, 16, 16)


@pytest.mark.parametrize("kind", SegmentationLoss.KINDS)
def test_unknown_labels_take_no_part_in_the_loss(kind):
    torch.manual_seed(0)
    logits = torch.randn(3, 2, 8, 8)
    target = (torch.rand(3, 2, 8, 8) > 0.5).float()
    loss = SegmentationLoss(kind)
    masked = target.clone()
    masked[1, 1] = -1  # slice 1 has no epicardial label
    known = [logits[i, c] for i in range(3) for c in range(2) if (i, c) != (1, 1)]
    truth = [target[i, c] for i in range(3) for c in range(2) if (i, c) != (1, 1)]
    expected = loss(torch.stack(known), torch.stack(truth))
    assert torch.allclose(loss(logits, masked), expected)
    # The unknown map's logits get no gradient.
    logits.requires_grad_(True)
    loss(logits, masked).backward()
    assert torch.count_nonzero(logits.grad[1, 1]) == 0
    assert torch.count_nonzero(logits.grad[1, 0]) > 0


def test_loss_without_any_label_is_zero_and_keeps_the_graph():
    logits = torch.randn(2, 2, 8, 8, requires_grad=True)
    value = SegmentationLoss()(logits, torch.full((2, 2, 8, 8), -1.0))
    assert value.item() == 0
    value.backward()
    assert torch.count_nonzero(logits.grad) == 0


def test_single_target_loss_unchanged_by_the_channel_axis():
    torch.manual_seed(1)
    logits, target = torch.randn(4, 8, 8), (torch.rand(4, 8, 8) > 0.7).float()
    loss = SegmentationLoss()
    assert torch.allclose(loss(logits, target), loss(logits[:, None], target[:, None]))


@pytest.mark.parametrize(
    "in_channels, base_channels, depth, out_channels",
    [(1, 16, 4, 1), (1, 4, 1, 1), (3, 4, 2, 2), (2, 5, 3, 2), (1, 2, 6, 1)],
)
def test_n_parameters_counts_the_weights_of_the_built_network(in_channels, base_channels, depth, out_channels):
    # fit and load refuse networks by this count, before building them.
    from skcardio.segment._unet_net import n_parameters

    net = UNet(in_channels, base_channels, depth, out_channels)
    assert n_parameters(in_channels, base_channels, depth, out_channels) == sum(p.numel() for p in net.parameters())
