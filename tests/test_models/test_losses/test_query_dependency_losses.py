"""CG-DETR's query-dependency losses, by hand."""
import math

import torch

from tpo.models.losses import (MomentSentenceAlignLoss, MomentTextDistillLoss,
                               OrthogonalDummyLoss)


def test_moment_sentence_align_by_hand():
    moment = torch.tensor([[1., 0.], [0., 1.]])
    non_moment = torch.tensor([[1., 0.], [1., 0.]])
    sentence = torch.tensor([[1., 0.], [0., 1.]])
    dummy = torch.tensor([[0., 1.], [1., 0.]])
    # every row of both similarity matrices has two 1s and two 0s, and the
    # label points at a 1: CE = log(2e + 2) - 1 for each of the two terms
    expected = 2 * (math.log(2 * math.e + 2) - 1)
    loss = MomentSentenceAlignLoss()
    assert math.isclose(
        loss(moment, non_moment, sentence, dummy).item(), expected,
        rel_tol=1e-6)
    frames = torch.tensor([[[2., 0.]], [[0., 0.]]])  # logits 2 and 0
    bce = (-math.log(torch.sigmoid(torch.tensor(2.)).item()) +
           math.log(2)) / 2
    assert math.isclose(
        loss(moment, non_moment, sentence, dummy, frames,
             torch.tensor([[1.], [0.]]), torch.ones(2, 1)).item(),
        expected + bce, rel_tol=1e-5)


def test_distill_loss_by_hand():
    attn = torch.tensor([[[0.8, 0.2], [0.9, 0.1]]])
    similarity = torch.tensor([[[0., 0.], [3., 0.]]])
    moment = torch.tensor([[1., 0.]])  # only clip 0 counts
    kl = sum(0.5 * (math.log(0.5) - math.log(p + 1e-6)) for p in (0.8, 0.2))
    assert math.isclose(
        MomentTextDistillLoss()(attn, similarity, moment).item(), kl / 2,
        rel_tol=1e-5)
    value = MomentTextDistillLoss()(attn, similarity, torch.zeros(1, 2))
    assert value == 0 and not torch.isnan(value)


def test_orthogonal_dummy_by_hand():
    dummies = torch.tensor([[[1., 0.], [1., 1.]]])
    # off-diagonal |cos| = 1/sqrt(2) twice over a 2x2 matrix
    off = 2 * (1 / math.sqrt(2)) / 4
    loss = OrthogonalDummyLoss()
    assert math.isclose(
        loss(dummies, torch.eye(2)).item(), off, rel_tol=1e-6)
    assert math.isclose(
        loss(dummies, torch.tensor([[1., 0.], [2., 0.]])).item(), off + 0.5,
        rel_tol=1e-6)
    # a single dummy: only the global tokens count
    assert loss(torch.ones(1, 1, 2), torch.eye(2)) == 0
