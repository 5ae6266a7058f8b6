"""Mask losses (dice, sigmoid focal, IoU prediction) by hand."""
import math

import torch
import torch.nn.functional as F

from tpo.models.losses.mask_losses import (DiceLoss, IoUPredictionLoss,
                                           SigmoidFocalLoss, binary_mask_iou)
from tpo.registry import MODELS


def test_dice_loss_hand_computed():
    s = math.log(3)  # sigmoid(+-ln 3) = 0.75 / 0.25
    logits = torch.tensor([[0., 0, 0, 0], [s, -s, s, -s]])
    target = torch.tensor([[1., 1, 0, 0], [1, 0, 0, 0]])
    # item 0: 1 - (2*1 + 1) / (2 + 2 + 1); item 1: 1 - (1.5 + 1) / (2 + 1 + 1)
    items = DiceLoss()(logits, target, reduction_override='none')
    assert torch.allclose(items, torch.tensor([0.4, 0.375]))
    assert torch.isclose(DiceLoss(loss_weight=2.0)(logits, target),
                         torch.tensor(0.775))
    # (N, H, W) items reduce over H and W
    assert torch.allclose(
        DiceLoss()(logits.view(2, 2, 2), target.view(2, 2, 2),
                   reduction_override='none'), items)


def test_sigmoid_focal_loss_hand_computed():
    s = math.log(3)
    logits = torch.tensor([[s, s]])
    target = torch.tensor([[1., 0]])
    positive = 0.25 * (1 - 0.75)**2 * -math.log(0.75)
    negative = 0.75 * 0.75**2 * -math.log(0.25)
    loss = SigmoidFocalLoss(alpha=0.25, gamma=2.0)(logits, target)
    assert math.isclose(float(loss), (positive + negative) / 2, rel_tol=1e-5)
    # alpha < 0 and gamma 0: plain binary cross-entropy
    bce = SigmoidFocalLoss(alpha=-1, gamma=0.0, loss_weight=3.0)
    assert torch.isclose(
        bce(logits, target),
        3 * F.binary_cross_entropy_with_logits(logits, target))


def test_iou_prediction_loss_and_mask_iou():
    logits = torch.tensor([[[5., 5], [-5, -5]], [[-5., -5], [-5, -5]]])
    target = torch.tensor([[[1., 0], [0, 0]], [[0., 0], [0, 0]]])
    ious = binary_mask_iou(logits, target)
    assert torch.allclose(ious, torch.tensor([0.5, 1.0]))  # both empty: 1
    pred = torch.tensor([0.7, 0.5])
    assert torch.isclose(IoUPredictionLoss()(pred, ious),
                         torch.tensor((0.2**2 + 0.5**2) / 2))
    assert torch.isclose(IoUPredictionLoss(loss_type='l1')(pred, ious),
                         torch.tensor(0.35))


def test_losses_of_no_items_are_zero_not_nan():
    logits = torch.zeros(0, 4, 4, requires_grad=True)
    for loss in (DiceLoss(), SigmoidFocalLoss()):
        value = loss(logits, torch.zeros(0, 4, 4))
        assert value.item() == 0 and not torch.isnan(value)
        value.backward()


def test_losses_are_registered():
    for name in ('DiceLoss', 'SigmoidFocalLoss', 'IoUPredictionLoss'):
        assert name in MODELS
