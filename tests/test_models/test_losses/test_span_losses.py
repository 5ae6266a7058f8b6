"""Span L1, GIoU and classification losses on tiny tensors."""
import math

import torch

from tpo.models.losses import SpanClassificationLoss, SpanGIoULoss, SpanL1Loss


def test_span_losses_by_hand():
    l1 = SpanL1Loss(loss_weight=10.)
    assert torch.allclose(
        l1(torch.tensor([[0.5, 0.2]]), torch.tensor([[0.4, 0.4]])),
        torch.tensor(1.5))
    giou = SpanGIoULoss(loss_weight=1.)
    pred = torch.tensor([[0.1, 0.3], [0.1, 0.3]])
    target = torch.tensor([[0.2, 0.3], [0.6, 0.8]])
    # 1 - GIoU: 1 - 0.5 and 1 + 3/7
    assert torch.allclose(giou(pred, target),
                          torch.tensor((0.5 + 1 + 3 / 7) / 2))
    empty = torch.zeros(0, 2, requires_grad=True)
    for loss in (l1, giou):
        value = loss(empty, torch.zeros(0, 2))
        assert value == 0 and not torch.isnan(value)
        value.backward()


def test_classification_loss_weights_background_by_eos_coef():
    loss = SpanClassificationLoss(eos_coef=0.1, loss_weight=4.)
    logits = torch.tensor([[[0., 0.], [math.log(3), 0.]]])
    foreground = torch.tensor([[True, False]])
    # fg: -log .5; bg: 0.1 * -log .25; plain mean over the 2 queries
    expected = 4 * (math.log(2) + 0.1 * math.log(4)) / 2
    assert torch.allclose(loss(logits, foreground), torch.tensor(expected))
